/**
 * Leader-side lease timers, as a pure object: every method takes the time as an argument, so the
 * scheduler owns the clock and tests drive time by hand.
 *
 * Only the leader measures lease time. On promotion each lease's timer starts from its last
 * replicated checkpoint (its `remainingMs`), not from a fresh TTL, so leases still expire when
 * leaders keep changing; and it counts from when this member learned that checkpoint, not from
 * the promotion, so the leaderless gap of each change is not added to the lease. Revocation goes
 * through Raft; the keeper only says which leases are due.
 *
 * Decision: `expired()` hands out a due lease and then holds it back for
 * `leaseKeeperLimits.revokeRetryMs`: the scheduler proposes one revocation, and if that is lost
 * the lease comes back for a retry, not on every tick. The scheduler calls `forget(id)` once the
 * revocation applied (or the store says the lease is gone).
 */
import { LeaseNotFoundError } from '../errors.js';
import { leaseKeeperLimits } from './limits.js';
import type { LeaseCheckpoint, LeaseInfo } from './types.js';

interface Timer {
  readonly ttlMs: number;
  /** When the lease expires, unless renewed. */
  expiresAtMs: number;
  /** Not handed out by `expired()` again before this (a revocation is in flight). */
  retryAtMs: number;
}

/** A lease as the state machine holds it, and when (on this member's clock) its remaining time was learned. */
export type LearnedLease = LeaseInfo & { readonly learnedAtMs?: number };

function timerOf(lease: LearnedLease, nowMs: number): Timer {
  const since = Math.min(lease.learnedAtMs ?? nowMs, nowMs);
  return { ttlMs: lease.ttlMs, expiresAtMs: since + lease.remainingMs, retryAtMs: 0 };
}

export class LeaseKeeper {
  private readonly timers = new Map<number, Timer>();
  /** Where the next checkpoint batch starts (round robin over ids). */
  private checkpointCursor = 0;

  /**
   * Becomes the leader: each timer runs out `remainingMs` after this member learned that remaining
   * time (`learnedAtMs`, on its own clock: when it applied the grant or last checkpoint), or after
   * now when it does not know (it restarted since: later, never earlier).
   */
  promote(nowMs: number, leases: readonly LearnedLease[]): void {
    this.timers.clear();
    this.checkpointCursor = 0;
    for (const lease of leases) this.timers.set(lease.id, timerOf(lease, nowMs));
  }

  /** No longer the leader: the next leader measures from the replicated checkpoints. */
  demote(): void {
    this.timers.clear();
    this.checkpointCursor = 0;
  }

  /**
   * While leading: times every lease the state machine holds and this keeper does not (a grant
   * applied after promotion, possibly proposed by an earlier leader), from its replicated
   * remaining time, and drops timers of leases that are gone. Timers already running are kept.
   */
  adopt(nowMs: number, leases: readonly LearnedLease[]): void {
    const live = new Set<number>();
    for (const lease of leases) {
      live.add(lease.id);
      if (!this.timers.has(lease.id)) this.timers.set(lease.id, timerOf(lease, nowMs));
    }
    for (const id of [...this.timers.keys()]) if (!live.has(id)) this.timers.delete(id);
  }

  grant(id: number, ttlMs: number, nowMs: number): void {
    this.timers.set(id, { ttlMs, expiresAtMs: nowMs + ttlMs, retryAtMs: 0 });
  }

  /** Keep-alive: restarts the full TTL; returns the time left. */
  renew(id: number, nowMs: number): number {
    const timer = this.timers.get(id);
    // An expired lease is being revoked: renewing it now would race the revocation.
    if (timer === undefined || timer.expiresAtMs <= nowMs) throw new LeaseNotFoundError(id);
    timer.expiresAtMs = nowMs + timer.ttlMs;
    timer.retryAtMs = 0;
    return timer.ttlMs;
  }

  /** Leases due for revocation, soonest first (ties by id, so the order is reproducible). */
  expired(nowMs: number): number[] {
    const due: [number, Timer][] = [];
    for (const entry of this.timers) if (entry[1].expiresAtMs <= nowMs && entry[1].retryAtMs <= nowMs) due.push(entry);
    due.sort(([idA, a], [idB, b]) => a.expiresAtMs - b.expiresAtMs || idA - idB);
    for (const [, timer] of due) timer.retryAtMs = nowMs + leaseKeeperLimits.revokeRetryMs;
    return due.map(([id]) => id);
  }

  /**
   * Remaining time of live leases to replicate, at most `checkpointBatchMax` per call, rotating
   * through the ids so every lease is checkpointed in turn. Expired leases are left out: they are
   * about to be revoked, and a zero checkpoint would only make the next leader revoke them too.
   */
  checkpoints(nowMs: number): LeaseCheckpoint[] {
    const ids = [...this.timers.keys()].sort((a, b) => a - b);
    const start = ids.findIndex((id) => id >= this.checkpointCursor);
    const ordered = start <= 0 ? ids : [...ids.slice(start), ...ids.slice(0, start)];
    const batch: LeaseCheckpoint[] = [];
    for (const id of ordered) {
      if (batch.length >= leaseKeeperLimits.checkpointBatchMax) {
        this.checkpointCursor = id;
        return batch;
      }
      const timer = this.timers.get(id) as Timer;
      if (timer.expiresAtMs > nowMs) batch.push({ id, remainingMs: Math.ceil(timer.expiresAtMs - nowMs) });
    }
    this.checkpointCursor = 0;
    return batch;
  }

  forget(id: number): void {
    this.timers.delete(id);
  }

  /** Time left, or null if unknown; for status pages and tests. */
  remaining(id: number, nowMs: number): number | null {
    const timer = this.timers.get(id);
    return timer === undefined ? null : Math.max(0, timer.expiresAtMs - nowMs);
  }

  size(): number {
    return this.timers.size;
  }
}
