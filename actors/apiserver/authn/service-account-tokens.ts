/**
 * ServiceAccount tokens: ES256 JWTs signed with the cluster's `pki/sa.key`, with Kubernetes'
 * claims (iss, sub `system:serviceaccount:<ns>:<name>`, aud, iat, nbf, exp, and
 * `kubernetes.io.serviceaccount.uid`). A token is valid while it is unexpired and its
 * ServiceAccount still exists with the same uid (Kubernetes' bound-token check), so deleting the
 * ServiceAccount revokes its tokens within the cache TTL.
 *
 * As in Kubernetes, a token authenticates to the API only if its `aud` names the API's audience
 * (the issuer, by default): a token requested for another audience (a vault, a webhook) must not
 * be replayable against the API by whoever receives it. `nbf` and `exp` are checked with
 * Kubernetes' one-minute leeway for clock differences between members.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../bus/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import type { KubeObject, UserInfo } from '../types.js';
import { bearerToken, type Authenticator, type AuthenticationRequest } from './authenticator.js';
import { credentialRejected } from './errors.js';
import { looksLikeJwt, publicKeyFromPem, signJwt, verifyJwt } from './jwt.js';
import { authnLimits } from './limits.js';
import { getOrNull } from './stored-tokens.js';
import { TtlCache } from './ttl-cache.js';

/** Kubernetes' default issuer and audience; kubus serves no OIDC discovery, so these only need to match themselves. */
export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export function serviceAccountUserName(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function serviceAccountUser(namespace: string, name: string, uid: string): UserInfo {
  return { name: serviceAccountUserName(namespace, name), uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
}

export interface IssueOptions {
  readonly privateKeyPem: string;
  readonly serviceAccount: KubeObject;
  readonly now: Date;
  readonly expirationSeconds: number;
  readonly audiences?: readonly string[];
}

export function issueServiceAccountToken(options: IssueOptions): { token: string; expiresAt: Date } {
  const { metadata } = options.serviceAccount;
  const namespace = metadata.namespace ?? '';
  const name = metadata.name ?? '';
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.expirationSeconds;
  const token = signJwt({
    iss: serviceAccountIssuer, sub: serviceAccountUserName(namespace, name), aud: options.audiences ?? [serviceAccountIssuer],
    iat, nbf: iat, exp, 'kubernetes.io': { namespace, serviceaccount: { name, uid: metadata.uid ?? '' } },
  }, options.privateKeyPem);
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The audience the API accepts: Kubernetes' default `--api-audiences` is the issuer. */
export const apiAudience = serviceAccountIssuer;

interface Claims {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly exp: number;
  /** Not before (seconds); absent in the token means no lower bound. */
  readonly nbf: number | null;
  readonly audiences: readonly string[];
}

/** `aud` is a string or an array of strings (RFC 7519 §4.1.3); anything else is no audience. */
function audiencesOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((a): a is string => typeof a === 'string') : [];
}

function serviceAccountClaims(claims: Record<string, unknown>): Claims {
  const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown; uid?: unknown } } | undefined;
  const namespace = k8s?.namespace;
  const name = k8s?.serviceaccount?.name;
  const uid = k8s?.serviceaccount?.uid;
  const exp = claims['exp'];
  const nbf = claims['nbf'];
  if ((nbf !== undefined && typeof nbf !== 'number')) throw credentialRejected('malformed', 'the JWT nbf claim is not a number');
  if (claims['iss'] !== serviceAccountIssuer || typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string' || typeof exp !== 'number'
    || claims['sub'] !== serviceAccountUserName(namespace, name)) {
    throw credentialRejected('malformed', 'the JWT is not a ServiceAccount token of this cluster');
  }
  return { namespace, name, uid, exp, nbf: typeof nbf === 'number' ? nbf : null, audiences: audiencesOf(claims['aud']) };
}

export class ServiceAccountTokenAuthenticator implements Authenticator {
  private readonly publicKey: KeyObject;
  private readonly cache: TtlCache<KubeObject | null>;
  private readonly serviceAccounts: ResourceInfo;

  constructor(private readonly options: { publicKeyPem: string; objects: Pick<ObjectStorage, 'get'>; clock: Clock; wallClock: () => Date }) {
    this.publicKey = publicKeyFromPem(options.publicKeyPem);
    this.cache = new TtlCache(options.clock, { ttlMs: authnLimits.storeCacheTtlMs, entriesMax: authnLimits.storeCacheEntriesMax });
    const info = findResource('', 'v1', 'serviceaccounts');
    if (info === undefined) throw new Error('the serviceaccounts resource is not registered');
    this.serviceAccounts = info;
  }

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | null> {
    const token = bearerToken(request.authorization);
    if (token === null || token.length > authnLimits.bearerTokenBytesMax || !looksLikeJwt(token)) return null;
    const claims = serviceAccountClaims(verifyJwt(token, this.publicKey));
    const what = `the token of ServiceAccount ${claims.namespace}/${claims.name}`;
    const nowMs = this.options.wallClock().getTime();
    const leewayMs = authnLimits.clockLeewaySeconds * 1000;
    if (claims.exp * 1000 + leewayMs <= nowMs) {
      throw credentialRejected('expired', `${what} expired at ${new Date(claims.exp * 1000).toISOString()}`);
    }
    if (claims.nbf !== null && claims.nbf * 1000 - leewayMs > nowMs) {
      throw credentialRejected('notYetValid', `${what} is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
    }
    if (!claims.audiences.includes(apiAudience)) {
      throw credentialRejected('wrongAudience', `${what} is not meant for this API (audiences: ${claims.audiences.join(', ') || 'none'})`);
    }
    const key = `${claims.namespace}/${claims.name}`;
    const account = await this.cache.getOrLoad(key, () => getOrNull(this.options.objects, this.serviceAccounts, claims.namespace, claims.name));
    if (account === null || account.metadata.uid !== claims.uid || account.metadata.deletionTimestamp !== undefined) {
      throw credentialRejected('serviceAccountGone', `${what} is no longer valid: the ServiceAccount no longer exists`);
    }
    return serviceAccountUser(claims.namespace, claims.name, claims.uid);
  }
}
