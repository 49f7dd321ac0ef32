/** Authentication: the authenticator chain, the stored-token formats and the authentication API endpoints. */
export { unionAuthenticator, bearerToken, authenticatedGroup, type Authenticator, type AuthenticationRequest, type ClientCertificate } from './authenticator.js';
export { CredentialRejectedError, credentialRejected, type CredentialProblem } from './errors.js';
export { clientCertificateAuthenticator } from './client-certificate.js';
export { StoredTokenAuthenticator } from './stored-tokens.js';
export { ServiceAccountTokenAuthenticator, issueServiceAccountToken, serviceAccountUser, serviceAccountIssuer, apiAudience } from './service-account-tokens.js';
export {
  newKubusToken, newBootstrapToken, tokenRecord, tokenSecretName, secretNamesForId, tokenNamespace, kubusTokenType, bootstrapTokenType,
  revokedAtAnnotation, bootstrappersGroup, sha256Hex, kubusIdentityRefusal, bootstrapGroupsRefusal, type TokenRecord, type NewToken,
} from './token-secrets.js';
export { serveAuthenticationEndpoint } from './endpoints.js';
export { guardTokenRecordWrite, type TokenRecordWrite } from './token-record-guard.js';
export { clusterAuthenticator, readIfExists } from './cluster-authenticator.js';
export { TtlCache } from './ttl-cache.js';
export { authnLimits } from './limits.js';
export { NodeTokenAuthenticator, issueNodeToken, nodeUser, nodeTokenIssuer, nodeTokenAudience } from './node-tokens.js';
export { NodeIdentityGuard, guardedCertificateAuthenticator, type ClientCertificateValidity } from './node-identity-guard.js';
export {
  nodeIdentitySecret, nodeIdentityOf, nodeIdentitySecretName, nodeIdentityType, nodeIdentityNamespace, nodeIdentityLimits, withIssuedUser, newNodeIdentity,
  awaitingRejoin, refusedByRevocation,
  revokedIdentityMessage, revokedReasonAnnotation, type NodeIdentity, type IssuedNatsUser,
} from './node-identity.js';
