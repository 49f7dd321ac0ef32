/** Joining a node to the cluster and keeping its identity and credentials fresh (issue 11 §2). */
export { caCertHash, parseCaHash, matchesPin } from './ca-pin.js';
export { pinnedCaFromChain, fetchPinnedCa } from './fetch-ca.js';
export { ensureIdentity, type JoinRequest, type JoinEnvironment, type Joined } from './join.js';
export { NodeSession, sessionLimits, type SessionOptions } from './session.js';
export { DeferredBus } from './deferred-bus.js';
export { parseNodeCredentials, type NodeCredentials } from './node-credentials.js';
export { renewAtMs, certificateRenewAtMs, credentialsRenewAtMs, credentialsValidAt, retryDelayMs } from './renewal.js';
export { loadIdentity, type StoredIdentity } from './identity-store.js';
export { joinLimits } from './limits.js';
export {
  CaHashMismatchError, CaHashFormatError, CaNotPresentedError, BootstrapTokenRefusedError, JoinRefusedError, ServerUnreachableError,
  NoIdentityError, IdentityMismatchError, JoinProtocolError,
} from './errors.js';
