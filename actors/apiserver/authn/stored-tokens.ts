/**
 * Authenticates kubus and bootstrap tokens against their Secrets in the cluster store (see
 * token-secrets.ts). Secrets are read through a short-TTL cache (authnLimits): revocation reaches
 * every member within that TTL without a watch per member.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../bus/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { ApiError } from '../status.js';
import type { KubeObject, UserInfo } from '../types.js';
import { bearerToken, type Authenticator, type AuthenticationRequest } from './authenticator.js';
import { credentialRejected } from './errors.js';
import { authnLimits } from './limits.js';
import { sha256Hex, tokenNamespace, tokenRecord, tokenSecretName } from './token-secrets.js';
import { TtlCache } from './ttl-cache.js';

export function secretsResource(): ResourceInfo {
  const info = findResource('', 'v1', 'secrets');
  if (info === undefined) throw new Error('the secrets resource is not registered');
  return info;
}

/** A store read that answers null for 404, for caching absence as well as presence. */
export async function getOrNull(objects: Pick<ObjectStorage, 'get'>, info: ResourceInfo, namespace: string, name: string): Promise<KubeObject | null> {
  try {
    return await objects.get(info, namespace, name);
  } catch (error) {
    if (error instanceof ApiError && error.httpStatus === 404) return null;
    throw error;
  }
}

export class StoredTokenAuthenticator implements Authenticator {
  private readonly cache: TtlCache<KubeObject | null>;
  private readonly secrets = secretsResource();

  constructor(private readonly options: { objects: Pick<ObjectStorage, 'get'>; clock: Clock; wallClock: () => Date }) {
    this.cache = new TtlCache(options.clock, { ttlMs: authnLimits.storeCacheTtlMs, entriesMax: authnLimits.storeCacheEntriesMax });
  }

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | null> {
    const token = bearerToken(request.authorization);
    if (token === null) return null;
    const where = tokenSecretName(token);
    if (where === null) return null;
    const what = `${where.kind} token ${where.id}`;
    const secret = await this.cache.getOrLoad(where.secretName, () => getOrNull(this.options.objects, this.secrets, tokenNamespace, where.secretName));
    const record = secret === null ? null : tokenRecord(secret);
    if (record === null || record.kind !== where.kind || !sameDigest(record.tokenSha256, sha256Hex(token))) {
      throw credentialRejected('unknown', `${what} is not valid`);
    }
    if (record.refusal !== null) throw credentialRejected('refusedIdentity', `${what} is refused: ${record.refusal}`);
    if (record.revokedAt !== null) throw credentialRejected('revoked', `${what} was revoked at ${record.revokedAt}`);
    if (record.expiresAt !== null && !(record.expiresAt.getTime() > this.options.wallClock().getTime())) {
      throw credentialRejected('expired', `${what} expired at ${record.expiresAt.toISOString()}`);
    }
    return record.user;
  }
}

function sameDigest(storedHex: string, presentedHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const presented = Buffer.from(presentedHex, 'hex');
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}
