/**
 * What the leader knows about one follower's log, and how it paces appends to it (etcd's
 * Progress): `probe` sends one append per heartbeat until a match is found, `replicate` pipelines
 * up to `inflightAppendsMax` appends optimistically, `snapshot` waits for a snapshot transfer.
 */
import { assert } from '../../bus/assert.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append is outstanding; cleared by a heartbeat response or an answer. */
  probeSent = false;
  /** Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /**
   * Replicate state: last index of each append in flight, oldest first. Bounded by
   * `inflightAppendsMax` so a slow follower cannot make the leader buffer without limit.
   */
  private readonly inflights: number[] = [];

  constructor(next: number, private readonly inflightAppendsMax: number) {
    this.next = next;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.length >= this.inflightAppendsMax;
      case 'snapshot':
        return true;
    }
  }

  inflightCount(): number {
    return this.inflights.length;
  }

  becomeProbe(): void {
    const next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.reset('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.reset('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.length = 0;
  }

  /** An append carrying entries up to `lastIndex` was sent. */
  sentAppend(lastIndex: number, entryCount: number): void {
    if (this.state === 'replicate' && entryCount > 0) {
      this.next = lastIndex + 1;
      this.inflights.push(lastIndex);
      assert(this.inflights.length <= this.inflightAppendsMax, 'inflight window overflow');
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** A success answer up to `index`; returns whether it told us something new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    while (this.inflights.length > 0 && (this.inflights[0] ?? 0) <= index) this.inflights.shift();
    return updated;
  }

  /**
   * A reject of the append at `rejected`, with the follower's hint. Returns false when the answer
   * is stale (it is about an append we already moved past).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** A heartbeat answer shows the follower is alive: let one more append through. */
  onHeartbeatResponse(): void {
    this.probeSent = false;
    if (this.state === 'replicate' && this.inflights.length >= this.inflightAppendsMax) this.inflights.shift();
  }
}
