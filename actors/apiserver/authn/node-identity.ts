/**
 * A node's identity record: Secret `kube-system/kubus-node-<name>` of type
 * `kubus.io/node-identity`, written by the API server (never by a client) when it hands a node its
 * credentials (http/node-credentials.ts). It says which bootstrap token joined the node (so that
 * revoking the token can revoke the node), which NATS users were issued to it (so that deleting
 * the Node or revoking the token can revoke them on the bus), and whether and when the identity
 * was revoked (`kubus.io/revoked-at`): from then on credentials of that node issued before that
 * instant are refused, for good (node-identity-guard.ts); a node that joins again with a new token
 * gets new ones, issued after it, which pass, and the record then names the new token.
 *
 * Decision: a Secret rather than a resource of its own, like the token records beside it
 * (token-secrets.ts): it lives in kube-system, where only administrators read, it needs no new
 * API type, and `kubectl get secret -n kube-system` shows it. It holds public keys and ids only.
 */
import type { KubeObject } from '../types.js';
import { revokedAtAnnotation, tokenNamespace } from './token-secrets.js';

export const nodeIdentityType = 'kubus.io/node-identity';
export const nodeIdentityNamespace = tokenNamespace;
/** Why the identity was revoked, for the refusal message. */
export const revokedReasonAnnotation = 'kubus.io/revoked-reason';

export const nodeIdentityLimits = {
  /**
   * NATS users remembered per node: the agent renews its user before expiry, so at most two are
   * live at once (the current one and the one it is replacing); older ones have expired and need
   * no revocation. Four leaves room for renewals that failed half-way.
   */
  natsUsersMax: 4,
} as const;

export function nodeIdentitySecretName(node: string): string {
  return `kubus-node-${node}`;
}

export interface IssuedNatsUser {
  readonly name: string;
  readonly publicKey: string;
  /** ms since the epoch. */
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

export interface NodeIdentity {
  readonly node: string;
  /** The bootstrap token id that joined the node (its newest approved CSR); '' when unknown. */
  readonly bootstrapTokenId: string;
  readonly natsUsers: readonly IssuedNatsUser[];
  /**
   * The latest revocation: every credential of the node issued up to then is refused, for good
   * (a node that joins again gets new ones, issued after it). Null: never revoked.
   */
  readonly revokedAt: Date | null;
  readonly revokedReason: string | null;
  /** The bootstrap token whose revocation set `revokedAt` ('' none): while it is still `bootstrapTokenId`, the node has not joined again. */
  readonly revokedTokenId: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The record as a Secret (a new one, or `base`'s metadata kept so an update carries its resourceVersion). */
export function nodeIdentitySecret(identity: NodeIdentity, base?: KubeObject): KubeObject {
  const annotations: Record<string, string> = { ...(base?.metadata.annotations ?? {}) };
  delete annotations[revokedAtAnnotation];
  delete annotations[revokedReasonAnnotation];
  if (identity.revokedAt !== null) annotations[revokedAtAnnotation] = identity.revokedAt.toISOString();
  if (identity.revokedReason !== null) annotations[revokedReasonAnnotation] = identity.revokedReason;
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { ...(base?.metadata ?? {}), name: nodeIdentitySecretName(identity.node), namespace: nodeIdentityNamespace, annotations },
    type: nodeIdentityType,
    data: {
      node: b64(identity.node),
      'bootstrap-token-id': b64(identity.bootstrapTokenId),
      'nats-users': b64(JSON.stringify(identity.natsUsers)),
      'revoked-token-id': b64(identity.revokedTokenId),
    },
  };
}

/** What a record says; null when the Secret is not a node identity record. */
export function nodeIdentityOf(secret: KubeObject): NodeIdentity | null {
  if (secret['type'] !== nodeIdentityType) return null;
  const data = (secret['data'] ?? {}) as Record<string, string>;
  const field = (key: string): string => (data[key] === undefined ? '' : Buffer.from(data[key], 'base64').toString('utf8'));
  const node = field('node');
  if (node === '') return null;
  const revoked = secret.metadata.annotations?.[revokedAtAnnotation];
  const revokedAt = revoked === undefined ? null : new Date(revoked);
  return {
    node, bootstrapTokenId: field('bootstrap-token-id'), natsUsers: parseUsers(field('nats-users')),
    revokedAt: revokedAt === null || Number.isNaN(revokedAt.getTime()) ? null : revokedAt,
    revokedReason: secret.metadata.annotations?.[revokedReasonAnnotation] ?? null,
    revokedTokenId: field('revoked-token-id'),
  };
}

function parseUsers(text: string): IssuedNatsUser[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text === '' ? '[]' : text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((u): u is IssuedNatsUser => typeof u === 'object' && u !== null
    && typeof (u as IssuedNatsUser).name === 'string' && typeof (u as IssuedNatsUser).publicKey === 'string' && typeof (u as IssuedNatsUser).issuedAtMs === 'number' && typeof (u as IssuedNatsUser).expiresAtMs === 'number');
}

/** A node's first record, when it is first given credentials. */
export function newNodeIdentity(node: string, bootstrapTokenId: string, user: IssuedNatsUser): NodeIdentity {
  return { node, bootstrapTokenId, natsUsers: [user], revokedAt: null, revokedReason: null, revokedTokenId: '' };
}

/** Pure: the node was revoked with its token and has not joined again with another since. */
export function awaitingRejoin(identity: Pick<NodeIdentity, 'revokedAt' | 'bootstrapTokenId' | 'revokedTokenId'>): boolean {
  return identity.revokedAt !== null && identity.revokedTokenId !== '' && identity.bootstrapTokenId === identity.revokedTokenId;
}

/** The users after issuing `user`: expired ones dropped, the newest `natsUsersMax` kept. */
export function withIssuedUser(users: readonly IssuedNatsUser[], user: IssuedNatsUser, nowMs: number): IssuedNatsUser[] {
  return [...users.filter((u) => u.expiresAtMs > nowMs), user].slice(-nodeIdentityLimits.natsUsersMax);
}

/**
 * Pure: whether a credential of the node issued at `issuedAtMs` is refused. Issue times are known
 * to the second (certificate notBefore, JWT iat), so whatever was issued in the revocation's own
 * second is refused too: a node joining again within that second must repeat it. Unknown issue
 * time (null): refused whenever the identity is revoked.
 */
export function refusedByRevocation(identity: Pick<NodeIdentity, 'revokedAt'>, issuedAtMs: number | null): boolean {
  if (identity.revokedAt === null) return false;
  return issuedAtMs === null || issuedAtMs < (Math.floor(identity.revokedAt.getTime() / 1000) + 1) * 1000;
}

/** The message every refusal of a revoked node says: what happened and what to do. */
export function revokedIdentityMessage(identity: Pick<NodeIdentity, 'node' | 'revokedAt' | 'revokedReason'>): string {
  const when = identity.revokedAt?.toISOString() ?? 'an unknown time';
  const why = identity.revokedReason ?? 'revoked by an administrator';
  return `the identity of node ${identity.node} was revoked at ${when} (${why}); join again with a new token (kubus token create --bootstrap, then kubus agent --token …)`;
}
