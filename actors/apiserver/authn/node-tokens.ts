/**
 * Node API tokens: what a joined node agent presents to the API over NATS, where no TLS client
 * certificate travels (the NATS front forwards on loopback as itself). An ES256 JWT signed with
 * the cluster's ServiceAccount key (`pki/sa.key`), with its own issuer and audience so that it can
 * never pass for a ServiceAccount token nor a ServiceAccount token for it; it authenticates
 * `system:node:<name>` in `system:nodes`, exactly the identity of the node's client certificate.
 * Issued by `POST /api/v1/nodes/<name>/credentials` (http/node-credentials.ts) with the same
 * lifetime as the node's NATS user; the agent renews both together.
 *
 * Decision: the token is not bound to a stored object (as ServiceAccount tokens are to their
 * ServiceAccount): a node must keep talking to the API while its Node object is being re-created.
 * Revocation (the bootstrap token that joined it was revoked) is checked for every node identity,
 * certificate or token alike, by the node identity guard (node-identity-guard.ts).
 */
import type { KeyObject } from 'node:crypto';
import type { UserInfo } from '../types.js';
import { bearerToken, type Authenticator, type AuthenticationRequest } from './authenticator.js';
import { credentialRejected } from './errors.js';
import { looksLikeJwt, publicKeyFromPem, signJwt, verifyJwt } from './jwt.js';
import { authnLimits } from './limits.js';
import type { NodeIdentityGuard } from './node-identity-guard.js';

/** Issuer and audience of node tokens: a ServiceAccount token names the Kubernetes issuer, never this. */
export const nodeTokenIssuer = 'kubus:node';
export const nodeTokenAudience = 'kubus:node';
export const nodeUserPrefix = 'system:node:';
export const nodesGroup = 'system:nodes';

export function nodeUser(node: string): UserInfo {
  return { name: `${nodeUserPrefix}${node}`, uid: '', groups: [nodesGroup] };
}

export function issueNodeToken(options: { privateKeyPem: string; node: string; now: Date; ttlSeconds: number }): { token: string; expiresAt: Date } {
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.ttlSeconds;
  const token = signJwt({
    iss: nodeTokenIssuer, aud: [nodeTokenAudience], sub: `${nodeUserPrefix}${options.node}`, iat, nbf: iat, exp, 'kubus.io/node': options.node,
  }, options.privateKeyPem);
  return { token, expiresAt: new Date(exp * 1000) };
}

interface NodeClaims {
  readonly node: string;
  readonly iat: number | null;
  readonly exp: number;
  readonly nbf: number | null;
}

/** The claims of a node token, or null when the JWT is someone else's (another issuer: not ours to judge). */
function nodeClaims(claims: Record<string, unknown>): NodeClaims | null {
  if (claims['iss'] !== nodeTokenIssuer) return null;
  const node = claims['kubus.io/node'];
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (typeof node !== 'string' || node === '' || claims['sub'] !== `${nodeUserPrefix}${node}` || typeof claims['exp'] !== 'number') {
    throw credentialRejected('malformed', 'the JWT is not a node token of this cluster');
  }
  if (!audiences.includes(nodeTokenAudience)) throw credentialRejected('wrongAudience', `the token of node ${node} is not meant for this API`);
  const nbf = claims['nbf'];
  const iat = claims['iat'];
  return { node, iat: typeof iat === 'number' ? iat : null, exp: claims['exp'], nbf: typeof nbf === 'number' ? nbf : null };
}

/** Peeks at a JWT's claims without verifying: cheap routing between the JWT authenticators. */
function unverifiedClaims(token: string): { iss?: unknown; iat?: unknown } {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? claims : {};
  } catch {
    return {};
  }
}

/**
 * When a node token presented in `authorization` was issued (its `iat`), or null when the header
 * holds no node token. Not verified: call it only for a request already authenticated.
 */
export function nodeTokenIssuedAtMs(authorization: string | undefined): number | null {
  const token = bearerToken(authorization);
  if (token === null || !looksLikeJwt(token)) return null;
  const claims = unverifiedClaims(token);
  return claims.iss === nodeTokenIssuer && typeof claims.iat === 'number' ? claims.iat * 1000 : null;
}

export class NodeTokenAuthenticator implements Authenticator {
  private readonly publicKey: KeyObject;

  /** `guard`: refuses tokens of a node whose identity was revoked after they were issued (node-identity-guard.ts). */
  constructor(private readonly options: { publicKeyPem: string; wallClock: () => Date; guard?: Pick<NodeIdentityGuard, 'check'> }) {
    this.publicKey = publicKeyFromPem(options.publicKeyPem);
  }

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | null> {
    const token = bearerToken(request.authorization);
    if (token === null || token.length > authnLimits.bearerTokenBytesMax || !looksLikeJwt(token)) return null;
    // Another issuer's JWT (a ServiceAccount token) is left to its own authenticator, unjudged.
    if (unverifiedClaims(token).iss !== nodeTokenIssuer) return null;
    const claims = nodeClaims(verifyJwt(token, this.publicKey));
    if (claims === null) return null;
    const what = `the API token of node ${claims.node}`;
    const nowMs = this.options.wallClock().getTime();
    const leewayMs = authnLimits.clockLeewaySeconds * 1000;
    if (claims.exp * 1000 + leewayMs <= nowMs) {
      throw credentialRejected('expired', `${what} expired at ${new Date(claims.exp * 1000).toISOString()} (the agent renews it through POST /api/v1/nodes/${claims.node}/credentials)`);
    }
    if (claims.nbf !== null && claims.nbf * 1000 - leewayMs > nowMs) {
      throw credentialRejected('notYetValid', `${what} is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
    }
    await this.options.guard?.check(claims.node, claims.iat === null ? null : claims.iat * 1000);
    return nodeUser(claims.node);
  }
}
