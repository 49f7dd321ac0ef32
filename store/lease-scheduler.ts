/**
 * Leader-side lease timing: the leader alone decides when a lease expires, and proposes its
 * revocation through Raft like any write. Remaining time survives leader changes because the
 * leader periodically proposes checkpoints of every lease's remaining time, and a new leader
 * starts each lease's timer from its last checkpoint (not from a fresh TTL, the etcd bug where
 * leases never expired under leader churn).
 *
 * Every lease the leader's state machine holds gets a timer, however it got there: on promotion
 * for the leases applied so far, and on each later tick for leases applied since (found through
 * `MvccStore.leaseChangeCount`). A grant proposed by the previous leader and applied after this
 * one took over is the case that matters: timing only the leases present at promotion left it
 * without a timer, and it never expired. Such a lease expires within its TTL plus the time from
 * its proposal to its apply (about one election), the bound RELIABILITY.md states.
 *
 * Every member notes, on its own clock, when it applied each lease's grant or latest checkpoint;
 * as the next leader it times the lease from that moment, so neither the checkpoint's age nor the
 * election gap is added at each leader change (a lease hit by three leader changes still expires
 * within its TTL plus about two election timeouts). A keep-alive is checkpointed through the log
 * before it is answered: a renewal only the old leader knew would be lost with it, and the next
 * leader would expire the lease before the TTL the client was promised.
 *
 * A grant carries the client's request id like any write, so a retried grant answers the first
 * grant's lease instead of creating a second one (with id 0 each attempt picks a new id).
 */
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import { LeaseKeeper, type LearnedLease } from './mvcc/index.js';
import { LeaseNotFoundError, NotLeaderError, NoQuorumError } from './errors.js';
import type { RaftDriver } from './raft-driver.js';
import type { LeaseInfo, WriteResult } from './mvcc/types.js';

export const leaseLimits = {
  /**
   * Checkpoint period. A leader change no longer costs the checkpoint's age (the next leader times
   * from when it learned the checkpoint); a member that restarted since does not know when, and
   * times from its promotion: it may overstay by up to this plus its downtime.
   */
  checkpointEveryMs: 2_000,
  /** Revocations proposed per tick: a burst of expiries cannot flood the log. */
  revokesPerTickMax: 64,
  /** Shortest TTL accepted: shorter than a few election timeouts would expire during a failover. */
  ttlMsMin: 2_000,
} as const;

export class LeaseScheduler {
  private readonly keeper = new LeaseKeeper();
  private leading = false;
  private nextCheckpointMs = 0;
  private readonly revoking = new Set<number>();
  /** `MvccStore.leaseChangeCount()` when the keeper last matched the lease table. */
  private adoptedChanges = -1;
  /** When (this member's clock) it applied each lease's grant or latest checkpoint. */
  private readonly learnedAtMs = new Map<number, number>();

  constructor(private readonly driver: RaftDriver, private readonly clock: Clock, private readonly random: Prng) {}

  onRoleChanged(isLeader: boolean): void {
    if (isLeader && !this.leading) {
      this.learn();
      this.adoptedChanges = this.driver.mvcc.leaseChangeCount();
      this.keeper.promote(this.clock.now(), this.learned(this.driver.mvcc.leases()));
      this.nextCheckpointMs = this.clock.now() + leaseLimits.checkpointEveryMs;
    } else if (!isLeader && this.leading) {
      this.keeper.demote();
      this.revoking.clear();
    }
    this.leading = isLeader;
  }

  /**
   * Grants a lease; `id` 0 lets the leader choose one. Its timer starts when the grant applies
   * (see `adoptApplied`), so a retry answered from the dedup table does not restart it.
   */
  async grant(id: number, ttlMs: number, requestId: string | null): Promise<WriteResult> {
    const chosen = id !== 0 ? id : 1 + this.random.int(2 ** 47);
    const effectiveTtl = Math.max(ttlMs, leaseLimits.ttlMsMin);
    const result = await this.driver.write({ type: 'leaseGrant', id: chosen, ttlMs: effectiveTtl }, requestId);
    this.adoptApplied();
    return result;
  }

  async keepAlive(id: number): Promise<{ id: number; remainingMs: number }> {
    if (!this.leading) {
      const leader = this.driver.raftStatus().leader;
      if (leader !== null) throw new NotLeaderError(leader);
      const { reachable, total } = this.driver.reachable();
      throw new NoQuorumError(reachable, total);
    }
    // A grant applied since the last tick has no timer yet: adopt it rather than answer "not found".
    this.adoptApplied();
    // A lease revoked by a client is gone from the state machine; the keeper learns it here.
    if (this.driver.mvcc.lease(id) === null) {
      this.keeper.forget(id);
      throw new LeaseNotFoundError(id);
    }
    const remainingMs = this.keeper.renew(id, this.clock.now());
    await this.driver.write({ type: 'leaseCheckpoint', checkpoints: [{ id, remainingMs }] }, null);
    return { id, remainingMs };
  }

  tick(): void {
    this.learn();
    if (!this.leading) return;
    this.adoptApplied();
    const now = this.clock.now();
    let proposed = 0;
    for (const id of this.keeper.expired(now)) {
      if (proposed >= leaseLimits.revokesPerTickMax) break;
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      proposed++;
      this.driver
        .write({ type: 'leaseRevoke', id }, null)
        .then(() => this.keeper.forget(id), (error: unknown) => {
          if (error instanceof LeaseNotFoundError) this.keeper.forget(id);
        })
        .finally(() => this.revoking.delete(id));
    }
    if (now >= this.nextCheckpointMs) {
      this.nextCheckpointMs = now + leaseLimits.checkpointEveryMs;
      const checkpoints = this.keeper.checkpoints(now);
      if (checkpoints.length > 0) this.driver.write({ type: 'leaseCheckpoint', checkpoints }, null).catch(() => undefined);
    }
  }

  /** Times leases applied since the keeper last looked (grants of any leader, revocations). */
  private adoptApplied(): void {
    if (!this.leading) return;
    const changes = this.driver.mvcc.leaseChangeCount();
    if (changes === this.adoptedChanges) return;
    this.adoptedChanges = changes;
    this.learn();
    this.keeper.adopt(this.clock.now(), this.learned(this.driver.mvcc.leases()));
  }

  /** Notes when this member learned each lease's remaining time (every member, every tick). */
  private learn(): void {
    const now = this.clock.now();
    const { all, set, revoked } = this.driver.mvcc.drainLeaseTouches();
    if (all) {
      this.learnedAtMs.clear();
      for (const lease of this.driver.mvcc.leases()) this.learnedAtMs.set(lease.id, now);
    }
    for (const id of set) this.learnedAtMs.set(id, now);
    for (const id of revoked) this.learnedAtMs.delete(id);
  }

  private learned(leases: readonly LeaseInfo[]): LearnedLease[] {
    return leases.map((lease) => {
      const learnedAtMs = this.learnedAtMs.get(lease.id);
      return learnedAtMs === undefined ? lease : { ...lease, learnedAtMs };
    });
  }
}
