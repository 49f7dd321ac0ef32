/**
 * Read-your-own-writes for serializable reads: a client that was told its write landed at
 * revision R may ask a member for a serializable read "at least at R" (`minRevision`). A follower
 * learns of a commit only with the leader's next message, so right after an acknowledged write it
 * may still trail it by a heartbeat or two; such a read waits here until the member applied R.
 *
 * Decision: the wait is bounded and never fails the read. After `catchUpMs`, or at once when the
 * member knows no leader (it cannot catch up), the read is served from what the member has, with
 * its staleness, exactly as a serializable read without `minRevision` is: serializable reads keep
 * answering without a quorum. Expiry is checked on the member's ticks (no timer per read).
 */
import type { Clock } from '../bus/clock.js';
import type { RaftDriver } from './raft-driver.js';

export const revisionWaitLimits = {
  /**
   * How long a read waits for its revision: a follower applies a commit within a heartbeat (50 ms)
   * of the leader's, a loaded one within a few; a member that trails by a second is cut off or
   * catching up from far behind, and its answer should not wait on that.
   */
  catchUpMs: 1_000,
  /** Reads waiting at once; beyond, a read is answered at once (the member service's in-flight bound is 1,024). */
  waitersMax: 4_096,
} as const;

interface Waiter {
  readonly revision: number;
  readonly deadlineMs: number;
  readonly wake: () => void;
}

export class RevisionWaits {
  private readonly waiters = new Set<Waiter>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly driver: Pick<RaftDriver, 'subscribe' | 'status'>, private readonly clock: Clock) {}

  start(): void {
    this.unsubscribe = this.driver.subscribe({
      applied: (_events, revision) => this.wake((waiter) => waiter.revision <= revision),
      snapshotRestored: () => {
        const revision = this.driver.status().revision;
        this.wake((waiter) => waiter.revision <= revision);
      },
      roleChanged: (_role, leader) => { if (leader === null) this.wake(() => true); },
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.wake(() => true);
  }

  /** Resolves once the member applied `revision`, or when waiting is pointless or over (see the module comment). */
  until(revision: number): Promise<void> {
    const status = this.driver.status();
    if (revision <= status.revision || status.leader === null || this.unsubscribe === null || this.waiters.size >= revisionWaitLimits.waitersMax) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.add({ revision, deadlineMs: this.clock.now() + revisionWaitLimits.catchUpMs, wake: resolve });
    });
  }

  /** On every member tick: reads past their bound are answered with what the member has. */
  tick(): void {
    if (this.waiters.size === 0) return;
    const now = this.clock.now();
    this.wake((waiter) => now >= waiter.deadlineMs);
  }

  private wake(due: (waiter: Waiter) => boolean): void {
    for (const waiter of this.waiters) {
      if (!due(waiter)) continue;
      this.waiters.delete(waiter);
      waiter.wake();
    }
  }
}
