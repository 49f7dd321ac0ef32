/**
 * Refuses the credentials of a node whose identity was revoked (its bootstrap token was revoked or
 * deleted: see node-identity.ts): a client certificate or node API token of `system:node:<name>`
 * issued at or before the record's `revokedAt` (to the second) is answered 401 saying to join again
 * with a new token. Credentials issued after it (the node joined again) pass. Records are read through the
 * same one-second cache as token records (authnLimits.storeCacheTtlMs), which is the delay
 * between a revocation and its refusal on every member.
 */
import type { Clock } from '../../../bus/index.js';
import { csrSigningLimits } from '../admission/csr-signing.js';
import type { ObjectStorage } from '../http/objects-port.js';
import type { KubeObject } from '../types.js';
import type { Authenticator, ClientCertificate } from './authenticator.js';
import { credentialRejected } from './errors.js';
import { authnLimits } from './limits.js';
import { nodeIdentityNamespace, nodeIdentityOf, nodeIdentitySecretName, refusedByRevocation, revokedIdentityMessage } from './node-identity.js';
import { nodeUserPrefix, nodesGroup } from './node-tokens.js';
import { secretsResource } from './stored-tokens.js';
import { ApiError } from '../status.js';
import { TtlCache } from './ttl-cache.js';

/** The cluster's signer back-dates notBefore by this much: a certificate was issued this long after its notBefore. */
const certificateBackdateMs = csrSigningLimits.backdateSeconds * 1000;

/** A client certificate whose validity start the TLS layer reported (api-server.ts adds it). */
export interface ClientCertificateValidity {
  /** notBefore, ms since the epoch; null when unknown. */
  readonly notBeforeMs?: number | null;
}

export class NodeIdentityGuard {
  private readonly cache: TtlCache<KubeObject | null>;
  private readonly secrets = secretsResource();

  constructor(private readonly objects: Pick<ObjectStorage, 'get'>, clock: Clock) {
    this.cache = new TtlCache(clock, { ttlMs: authnLimits.storeCacheTtlMs, entriesMax: authnLimits.storeCacheEntriesMax });
  }

  /** Throws 401 when `node`'s identity was revoked after `issuedAtMs` (null: issue time unknown, refused if revoked at all). */
  async check(node: string, issuedAtMs: number | null): Promise<void> {
    const name = nodeIdentitySecretName(node);
    // A serializable (local) read: every request of every node passes here, and a quorum read each
    // time would double the store's work for node heartbeats; the local copy lags by the apply delay only.
    const secret = await this.cache.getOrLoad(name, () => this.objects.get(this.secrets, nodeIdentityNamespace, name, { resourceVersion: '0' }).catch(nullWhenAbsent));
    const identity = secret === null ? null : nodeIdentityOf(secret);
    if (identity !== null && refusedByRevocation(identity, issuedAtMs)) throw credentialRejected('revoked', revokedIdentityMessage(identity));
  }
}

function nodeOf(name: string, groups: readonly string[]): string | null {
  if (!groups.includes(nodesGroup) || !name.startsWith(nodeUserPrefix) || name.length === nodeUserPrefix.length) return null;
  return name.slice(nodeUserPrefix.length);
}

/** `inner` (the client certificate authenticator), with a node's certificate checked against its identity record. */
export function guardedCertificateAuthenticator(inner: Authenticator, guard: NodeIdentityGuard): Authenticator {
  return {
    async authenticate(request) {
      const user = await inner.authenticate(request);
      if (user === null) return null;
      const node = nodeOf(user.name, user.groups);
      if (node !== null) await guard.check(node, certificateIssuedAtMs(request.clientCertificate));
      return user;
    },
  };
}

/** When the cluster's signer issued a certificate, from its notBefore; null when unknown. */
export function certificateIssuedAtMs(cert: (ClientCertificate & ClientCertificateValidity) | null): number | null {
  const notBeforeMs = cert?.notBeforeMs;
  return typeof notBeforeMs === 'number' && Number.isFinite(notBeforeMs) ? notBeforeMs + certificateBackdateMs : null;
}

/** For `.catch()` of a store read: 404 becomes null (absence is an answer), anything else stays an error. */
export function nullWhenAbsent(error: unknown): null {
  if (error instanceof ApiError && error.httpStatus === 404) return null;
  throw error;
}
