/**
 * Leases in the state machine (grant, attach on put, move between leases, revoke deleting the
 * attached keys at one revision, checkpoints) and the leader-side LeaseKeeper (expiry, renew,
 * promotion from the last checkpoint, bounded checkpoint batches, retry hold-back), the latter
 * driven by explicit times: no clock, no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, LeaseNotFoundError } from '../../store/errors.js';
import { LeaseKeeper, leaseKeeperLimits } from '../../store/mvcc/index.js';
import { keysOf, storeOn, text } from './harness.js';

describe('MvccStore leases', () => {
  it('attaches keys, moves them between leases, and revokes them at one revision', () => {
    const { store, apply, put, applyKeepingRefusals } = storeOn();
    expect(apply({ type: 'leaseGrant', id: 7, ttlMs: 10_000 })).toMatchObject({ type: 'leaseGrant', id: 7, ttlMs: 10_000, revision: 0 });
    apply({ type: 'leaseGrant', id: 8, ttlMs: 5_000 });
    put('s/a', '1', { lease: 7 }); // 1
    put('s/b', '1', { lease: 7 }); // 2
    put('s/c', '1', { lease: 8 }); // 3
    put('s/b', '2', { lease: 8 }); // 4: moves to lease 8
    put('s/d', '1'); // 5
    expect(store.lease(7)?.keys).toEqual(['s/a']);
    expect(store.lease(8)?.keys).toEqual(['s/b', 's/c']);
    expect(store.range({ key: 's/b' }).kvs[0]?.lease).toBe(8);
    const revoked = apply({ type: 'leaseRevoke', id: 8 });
    expect(revoked).toMatchObject({ type: 'leaseRevoke', revision: 6, deleted: 2 });
    expect(store.lastEvents().map((event) => `${event.type}:${event.kv.key}@${event.kv.modRevision}`)).toEqual(['delete:s/b@6', 'delete:s/c@6']);
    expect(keysOf(store, { key: 's/', prefix: true })).toEqual(['s/a', 's/d']);
    expect(store.lease(8)).toBeNull();
    expect(applyKeepingRefusals({ type: 'leaseRevoke', id: 8 })).toBeInstanceOf(LeaseNotFoundError);
    expect(applyKeepingRefusals({ type: 'put', request: { key: 'x', value: text('1'), lease: 8 } })).toBeInstanceOf(LeaseNotFoundError);
  });

  it('a delete or a lease-less put detaches the key; revoking an empty lease keeps the revision', () => {
    const { store, apply, put, del } = storeOn();
    apply({ type: 'leaseGrant', id: 1, ttlMs: 3_000 });
    put('a', '1', { lease: 1 });
    put('b', '1', { lease: 1 });
    put('a', '2'); // detaches
    del('b');
    expect(store.lease(1)?.keys).toEqual([]);
    const revision = store.currentRevision();
    expect(apply({ type: 'leaseRevoke', id: 1 })).toMatchObject({ revision, deleted: 0 });
    expect(store.range({ key: 'a' }).kvs[0]?.lease).toBe(0);
  });

  it('lease ids up to 2^53 survive storage (the scheduler picks ids up to 2^47)', () => {
    const { store, apply, put } = storeOn();
    const id = 2 ** 47 + 5;
    apply({ type: 'leaseGrant', id, ttlMs: 3_000 });
    put('big', '1', { lease: id });
    expect(store.range({ key: 'big' }).kvs[0]?.lease).toBe(id);
    expect(store.leases({ withKeys: true })).toEqual([{ id, ttlMs: 3_000, remainingMs: 3_000, keys: ['big'] }]);
    expect(apply({ type: 'leaseRevoke', id })).toMatchObject({ deleted: 1 });
    store.checkInvariants();
  });

  it('ignoreLease keeps the current lease and needs an existing key', () => {
    const { store, apply, put, applyKeepingRefusals } = storeOn();
    apply({ type: 'leaseGrant', id: 3, ttlMs: 3_000 });
    put('a', '1', { lease: 3 });
    apply({ type: 'put', request: { key: 'a', value: text('2'), ignoreLease: true } });
    expect(store.range({ key: 'a' }).kvs[0]).toMatchObject({ lease: 3, version: 2 });
    expect(applyKeepingRefusals({ type: 'put', request: { key: 'new', value: text('1'), ignoreLease: true } })).toBeInstanceOf(InvalidRequestError);
  });

  it('grants once, records checkpoints (capped at the TTL, unknown ids skipped)', () => {
    const { store, apply, applyKeepingRefusals } = storeOn();
    apply({ type: 'leaseGrant', id: 5, ttlMs: 9_000 });
    expect(applyKeepingRefusals({ type: 'leaseGrant', id: 5, ttlMs: 1_000 })).toBeInstanceOf(InvalidRequestError);
    expect(store.leases()).toEqual([{ id: 5, ttlMs: 9_000, remainingMs: 9_000 }]);
    const result = apply({ type: 'leaseCheckpoint', checkpoints: [{ id: 5, remainingMs: 4_000 }, { id: 99, remainingMs: 1 }] });
    expect(result).toMatchObject({ type: 'leaseCheckpoint', updated: 1, revision: 0 });
    expect(store.leases()).toEqual([{ id: 5, ttlMs: 9_000, remainingMs: 4_000 }]);
    apply({ type: 'leaseCheckpoint', checkpoints: [{ id: 5, remainingMs: 50_000 }] });
    expect(store.leases()[0]?.remainingMs).toBe(9_000);
  });
});

describe('LeaseKeeper', () => {
  it('expires leases after their TTL unless renewed', () => {
    const keeper = new LeaseKeeper();
    keeper.grant(1, 1_500, 0);
    keeper.grant(2, 2_000, 0);
    expect(keeper.expired(1_499)).toEqual([]);
    expect(keeper.renew(1, 1_400)).toBe(1_500); // now expires at 2_900
    expect(keeper.expired(1_999)).toEqual([]);
    expect(keeper.expired(2_000)).toEqual([2]);
    expect(keeper.expired(2_000)).toEqual([]); // held back while its revocation is in flight
    // Soonest expiry first: 2 (at 2_000, handed out again) before 1 (at 2_900).
    expect(keeper.expired(2_000 + leaseKeeperLimits.revokeRetryMs)).toEqual([2, 1]);
    keeper.forget(2);
    expect(() => keeper.renew(2, 3_000)).toThrow(LeaseNotFoundError);
    expect(() => keeper.renew(1, 3_000)).toThrow(LeaseNotFoundError); // expired: being revoked
  });

  it('a new leader starts timers from the last checkpoint, not a fresh TTL', () => {
    const { store, apply } = storeOn();
    const leader = new LeaseKeeper();
    apply({ type: 'leaseGrant', id: 9, ttlMs: 10_000 });
    leader.grant(9, 10_000, 0);
    apply({ type: 'leaseCheckpoint', checkpoints: leader.checkpoints(7_000) });
    expect(store.leases()[0]?.remainingMs).toBe(3_000);
    leader.demote();
    expect(leader.size()).toBe(0);
    const next = new LeaseKeeper();
    next.promote(50_000, store.leases());
    expect(next.remaining(9, 50_000)).toBe(3_000);
    expect(next.expired(52_999)).toEqual([]);
    expect(next.expired(53_000)).toEqual([9]);
  });

  it('checkpoints live leases in bounded batches, rotating through all of them', () => {
    const keeper = new LeaseKeeper();
    const total = leaseKeeperLimits.checkpointBatchMax + 10;
    for (let id = 1; id <= total; id++) keeper.grant(id, 60_000, 0);
    keeper.grant(total + 1, 10, 0); // expired by the checkpoint time: left out
    const first = keeper.checkpoints(1_000);
    const second = keeper.checkpoints(1_000);
    expect(first).toHaveLength(leaseKeeperLimits.checkpointBatchMax);
    expect(new Set([...first, ...second].map((checkpoint) => checkpoint.id)).size).toBe(total);
    expect(first[0]).toEqual({ id: 1, remainingMs: 59_000 });
    expect(second.some((checkpoint) => checkpoint.id === total + 1)).toBe(false);
  });
});
