/**
 * The pure decisions behind node credentials, from their inputs:
 * - the identity record survives its Secret form, keeps at most four unexpired NATS users, and
 *   says when a node revoked with its token has not joined again;
 * - which bootstrap token joined a node (the newest approved bootstrapper CSR for its name, a
 *   revoked token left out) and whether a live node holds a name (Lease renewed within its duration);
 * - when the revoker revokes a node's users (deletion seen: at once; Node merely absent: after the
 *   registration grace; expired users: never) and when a bootstrap token counts as revoked.
 */
import { describe, expect, it } from 'vitest';
import {
  awaitingRejoin, newNodeIdentity, nodeIdentityOf, nodeIdentitySecret, refusedByRevocation, withIssuedUser, type IssuedNatsUser,
} from '../../actors/apiserver/authn/index.js';
import { joiningToken, leaseLive } from '../../actors/apiserver/admission/csr-join.js';
import { nodeRevocation, tokenState } from '../../actors/controllers/nodecredentials/index.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const user = (name: string, issuedAtMs: number, expiresAtMs: number): IssuedNatsUser => ({ name: 'node-n1', publicKey: name, issuedAtMs, expiresAtMs });

describe('the node identity record', () => {
  it('round-trips through its Secret, with the revocation in annotations', () => {
    const identity = { ...newNodeIdentity('n1', 'abcdef', user('U1', 1, 2)), revokedAt: new Date('2026-12-03T05:00:00.000Z'), revokedReason: 'its bootstrap token abcdef was revoked', revokedTokenId: 'abcdef' };
    const secret = nodeIdentitySecret(identity);
    expect(secret).toMatchObject({ type: 'kubus.io/node-identity', metadata: { name: 'kubus-node-n1', namespace: 'kube-system', annotations: { 'kubus.io/revoked-at': '2026-12-03T05:00:00.000Z' } } });
    expect(nodeIdentityOf(secret)).toEqual(identity);
    expect(nodeIdentityOf({ ...secret, type: 'Opaque' })).toBeNull();
  });

  it('keeps the newest four unexpired users', () => {
    let users: IssuedNatsUser[] = [];
    for (let i = 1; i <= 6; i++) users = withIssuedUser(users, user(`U${i}`, i * 100, i * 100 + 1_000), i * 100);
    expect(users.map((u) => u.publicKey)).toEqual(['U3', 'U4', 'U5', 'U6']);
    expect(withIssuedUser(users, user('U7', 5_000, 9_000), 5_000).map((u) => u.publicKey)).toEqual(['U7']);
  });

  it('refuses credentials issued up to the end of the revocation\'s second, and knows when the node has not joined again', () => {
    const revoked = { revokedAt: new Date('2026-12-03T05:00:00.400Z') };
    expect(refusedByRevocation({ revokedAt: null }, 0)).toBe(false);
    expect(refusedByRevocation(revoked, Date.parse('2026-12-03T05:00:00.000Z'))).toBe(true);
    expect(refusedByRevocation(revoked, Date.parse('2026-12-03T05:00:00.999Z'))).toBe(true);
    expect(refusedByRevocation(revoked, Date.parse('2026-12-03T05:00:01.000Z'))).toBe(false);
    expect(refusedByRevocation(revoked, null)).toBe(true);
    expect(awaitingRejoin({ ...revoked, bootstrapTokenId: 'abcdef', revokedTokenId: 'abcdef' })).toBe(true);
    expect(awaitingRejoin({ ...revoked, bootstrapTokenId: 'ghijkl', revokedTokenId: 'abcdef' })).toBe(false);
  });
});

describe('joining', () => {
  const csr = (name: string, username: string, at: string, approved = true): KubeObject => ({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name, creationTimestamp: at },
    spec: { username, request: '' }, status: approved ? { conditions: [{ type: 'Approved', status: 'True' }] } : {},
  });
  const nodeOf = (object: KubeObject): string | null => (object.metadata.name ?? '').split('-')[0] ?? null;

  it('the joining token is the newest approved bootstrapper CSR for the node, a revoked token left out', () => {
    const csrs = [
      csr('n1-a', 'system:bootstrap:aaaaaa', '2026-12-03T04:00:00Z'),
      csr('n1-b', 'system:bootstrap:bbbbbb', '2026-12-03T04:10:00Z'),
      csr('n1-c', 'system:node:n1', '2026-12-03T04:20:00Z'),
      csr('n1-d', 'system:bootstrap:dddddd', '2026-12-03T04:30:00Z', false),
      csr('n2-e', 'system:bootstrap:eeeeee', '2026-12-03T04:40:00Z'),
    ];
    expect(joiningToken(csrs, 'n1', { nodeOf })).toBe('bbbbbb');
    expect(joiningToken(csrs, 'n1', { nodeOf, excluded: 'bbbbbb' })).toBe('aaaaaa');
    expect(joiningToken(csrs, 'n3', { nodeOf })).toBe('');
  });

  it('a live node is one whose Lease was renewed within its duration', () => {
    const lease = (renewTime: string, leaseDurationSeconds = 40): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { renewTime, leaseDurationSeconds } });
    const nowMs = Date.parse('2026-12-03T05:00:00Z');
    expect(leaseLive(lease('2026-12-03T04:59:30.000000Z'), nowMs)).toBe(true);
    expect(leaseLive(lease('2026-12-03T04:59:10.000000Z'), nowMs)).toBe(false);
    expect(leaseLive(null, nowMs)).toBe(false);
    expect(leaseLive({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: {} }, nowMs)).toBe(false);
  });
});

describe('the revoker\'s decisions', () => {
  const identity = { ...newNodeIdentity('n1', 'abcdef', user('U1', 1_000, 100_000)), natsUsers: [user('U0', 0, 500), user('U1', 1_000, 100_000)] };
  const plan = (over: Partial<Parameters<typeof nodeRevocation>[0]>) => nodeRevocation({ identity, nodeExists: false, deletionSeen: false, nowMs: 2_000, registrationGraceMs: 60_000, ...over });

  it('revokes the unexpired users of a deleted Node at once, waits out the grace for a Node merely absent, leaves an existing Node alone', () => {
    expect(plan({ deletionSeen: true })).toEqual({ action: 'revoke', users: [user('U1', 1_000, 100_000)] });
    expect(plan({})).toEqual({ action: 'wait', afterMs: 59_000 });
    expect(plan({ nowMs: 61_000 })).toEqual({ action: 'revoke', users: [user('U1', 1_000, 100_000)] });
    expect(plan({ nodeExists: true, deletionSeen: true })).toEqual({ action: 'none' });
    expect(plan({ deletionSeen: true, nowMs: 200_000 })).toEqual({ action: 'none' });
  });

  it('counts a bootstrap token revoked when annotated or gone', () => {
    const now = new Date('2026-12-03T05:00:00Z');
    const secret = (annotations?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system', ...(annotations ? { annotations } : {}) } });
    expect(tokenState('abcdef', secret(), now)).toEqual({ revoked: false });
    expect(tokenState('abcdef', secret({ 'kubus.io/revoked-at': '2026-12-03T04:00:00.000Z' }), now)).toEqual({ revoked: true, at: new Date('2026-12-03T04:00:00.000Z'), reason: 'its bootstrap token abcdef was revoked' });
    expect(tokenState('abcdef', null, now)).toEqual({ revoked: true, at: now, reason: 'its bootstrap token abcdef was deleted' });
  });
});
