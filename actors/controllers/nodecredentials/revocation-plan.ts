/**
 * What the node credentials revoker decides, as pure functions of what its informers hold (the
 * controller, nodecredentials-controller.ts, only reads and performs):
 * - a node's NATS users are revoked when its Node is gone: at once when the deletion was seen,
 *   and otherwise (the revoker was not leading when it happened, or the node never registered)
 *   once the newest user is older than the registration grace, since an agent registers its Node
 *   right after it received its credentials;
 * - a bootstrap token is revoked when its Secret carries `kubus.io/revoked-at` or is gone (kubus
 *   has no token cleaner: a token Secret disappears only when someone deletes it), and then every
 *   node it joined loses its NATS users and its identity (node-identity.ts `revokedAt`).
 * Users already expired are never revoked: the server refuses them anyway, and each revocation
 * costs an entry in the account JWT.
 */
import type { IssuedNatsUser, NodeIdentity } from '../../apiserver/authn/node-identity.js';
import { revokedAtAnnotation } from '../../apiserver/authn/token-secrets.js';
import type { KubeObject } from '../../objects/meta.js';

export type NodeRevocation =
  | { readonly action: 'none' }
  | { readonly action: 'wait'; readonly afterMs: number }
  | { readonly action: 'revoke'; readonly users: readonly IssuedNatsUser[] };

export function liveUsers(identity: Pick<NodeIdentity, 'natsUsers'>, nowMs: number): IssuedNatsUser[] {
  return identity.natsUsers.filter((user) => user.expiresAtMs > nowMs);
}

export function nodeRevocation(input: {
  readonly identity: NodeIdentity;
  readonly nodeExists: boolean;
  /** The revoker saw this Node's deletion (not merely its absence). */
  readonly deletionSeen: boolean;
  readonly nowMs: number;
  readonly registrationGraceMs: number;
}): NodeRevocation {
  const users = liveUsers(input.identity, input.nowMs);
  if (input.nodeExists || users.length === 0) return { action: 'none' };
  if (input.deletionSeen) return { action: 'revoke', users };
  const newest = Math.max(...users.map((user) => user.issuedAtMs));
  const waitMs = newest + input.registrationGraceMs - input.nowMs;
  return waitMs > 0 ? { action: 'wait', afterMs: waitMs } : { action: 'revoke', users };
}

export type TokenState =
  | { readonly revoked: false }
  | { readonly revoked: true; readonly at: Date; readonly reason: string };

/** `secret`: the token's Secret as the informer holds it, or null when it is gone. */
export function tokenState(id: string, secret: KubeObject | null, now: Date): TokenState {
  if (secret === null) return { revoked: true, at: now, reason: `its bootstrap token ${id} was deleted` };
  const annotated = secret.metadata.annotations?.[revokedAtAnnotation];
  if (annotated === undefined) return { revoked: false };
  const at = new Date(annotated);
  return { revoked: true, at: Number.isNaN(at.getTime()) ? now : at, reason: `its bootstrap token ${id} was revoked` };
}
