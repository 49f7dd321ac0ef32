/**
 * Joining (issue 11 §2): a node identity in `--dir`, made once with the bootstrap token and the
 * pinned CA, reused by every later start (no token needed then).
 *
 *   1. the CA from the server's TLS chain, checked against `--ca-cert-hash` (fetch-ca.ts)
 *   2. a new key and a CSR for system:node:<name>, created with the bootstrap token (csr.ts)
 *   3. key, certificate and CA stored in `--dir` (identity-store.ts)
 *   4. the NATS user and API token, asked for with the new certificate (node-credentials.ts)
 *
 * Step 4 runs at the first join too, so every refusal (a revoked identity, a name held by a live
 * node) is reported by the command that caused it, not later in the background.
 */
import type { Logger } from '../../bus/logger.js';
import { parseCaHash } from './ca-pin.js';
import { newNodeCsr, requestCertificate } from './csr.js';
import { IdentityMismatchError, NoIdentityError } from './errors.js';
import { fetchPinnedCa } from './fetch-ca.js';
import { loadCredentials, loadIdentity, saveCredentials, saveIdentity, type StoredIdentity } from './identity-store.js';
import { joinLimits } from './limits.js';
import { requestNodeCredentials, type NodeCredentials } from './node-credentials.js';
import { whileUnreachable } from './retry.js';

export interface JoinRequest {
  readonly node: string;
  readonly dir: string;
  /** Needed for a first join; a later start takes the stored server unless given another. */
  readonly server?: string;
  readonly token?: string;
  readonly caCertHash?: string;
}

export interface JoinEnvironment {
  readonly logger: Logger;
  /** Wall time, ms since the epoch (certificate and credential expiry are wall-clock). */
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Joined {
  readonly identity: StoredIdentity;
  readonly credentials: NodeCredentials | null;
  /** True when this call made the identity (a first join). */
  readonly fresh: boolean;
}

/** The stored identity, or a new one made with the bootstrap token; throws typed errors that say what to do. */
export async function ensureIdentity(request: JoinRequest, env: JoinEnvironment): Promise<Joined> {
  const stored = loadIdentity(request.dir);
  if (stored !== null) {
    if (stored.node !== request.node) throw new IdentityMismatchError(request.dir, stored.node, request.node);
    env.logger.info('reusing the node identity in --dir', { node: stored.node, dir: request.dir });
    const identity = request.server !== undefined && request.server !== stored.server ? { ...stored, server: request.server } : stored;
    return { identity, credentials: loadCredentials(request.dir), fresh: false };
  }
  if (request.server === undefined || request.token === undefined || request.caCertHash === undefined) throw new NoIdentityError(request.dir);
  const pin = parseCaHash(request.caCertHash);
  const server = request.server;
  const retry = { server, attemptsMax: joinLimits.joinAttemptsMax, sleep: env.sleep, logger: env.logger };
  env.logger.info('joining: fetching the cluster CA', { server, pin });
  const caPem = await whileUnreachable(() => fetchPinnedCa(server, pin), { ...retry, what: 'fetching the CA' });
  const { keyPem, csrPem } = await newNodeCsr(request.node);
  env.logger.info('joining: CA matches the pin; asking for a certificate', { node: request.node });
  const token = request.token;
  const certPem = await whileUnreachable(() => requestCertificate({ server, caPem, auth: { token } }, csrPem, { node: request.node, sleep: env.sleep, nowMs: env.nowMs }),
    { ...retry, what: 'creating the CSR' });
  const identity: StoredIdentity = { node: request.node, server, caPem, certPem, keyPem };
  saveIdentity(request.dir, identity);
  const credentials = await fetchCredentials(identity, env, joinLimits.joinAttemptsMax);
  saveCredentials(request.dir, credentials);
  env.logger.info('joined', { node: request.node, cluster: credentials.nats.cluster });
  return { identity, credentials, fresh: true };
}

/** New NATS user and API token, as the node itself. */
export function fetchCredentials(identity: StoredIdentity, env: JoinEnvironment, attemptsMax: number, stopped?: () => boolean): Promise<NodeCredentials> {
  const target = { server: identity.server, caPem: identity.caPem, auth: { certPem: identity.certPem, keyPem: identity.keyPem } };
  return whileUnreachable(() => requestNodeCredentials(target, identity.node, env.nowMs()), {
    server: identity.server, what: 'asking for NATS credentials', attemptsMax, sleep: env.sleep, logger: env.logger, ...(stopped !== undefined ? { stopped } : {}),
  });
}

/** A renewed certificate (new key, CSR as the node itself); the caller stores it. */
export async function renewCertificate(identity: StoredIdentity, env: JoinEnvironment, stopped: () => boolean): Promise<StoredIdentity> {
  const { keyPem, csrPem } = await newNodeCsr(identity.node);
  const target = { server: identity.server, caPem: identity.caPem, auth: { certPem: identity.certPem, keyPem: identity.keyPem } };
  const certPem = await whileUnreachable(() => requestCertificate(target, csrPem, { node: identity.node, sleep: env.sleep, nowMs: env.nowMs }), {
    server: identity.server, what: 'renewing the certificate', attemptsMax: Number.POSITIVE_INFINITY, sleep: env.sleep, logger: env.logger, stopped,
  });
  return { ...identity, certPem, keyPem };
}
