/**
 * The Raft log as the core sees it: a snapshot boundary, the entries after it, and the indices
 * that say how far they are committed, persisted and applied.
 *
 * Decision: the whole live log (everything after the last snapshot) is kept in memory. The driver
 * snapshots every `snapshotEveryEntries` applied entries or `snapshotEveryBytes` applied bytes,
 * whichever comes first, and then calls `compact`, so the live log is bounded by that plus the
 * uncommitted bytes the leader accepts. This keeps the core free of a storage interface and of
 * I/O, at the cost of reloading the live log at start-up. A count alone bounds nothing: 10,000
 * entries of 1.5 MiB are 15 GiB. So the log also holds itself to `bytesMax` (raftLimits.logBytesMax,
 * well above what the snapshot trigger lets accumulate): past it, the leader's own appends are
 * refused (ProposalDropped, retried by clients) and a follower takes only the part of an append
 * that fits (it acknowledges less; the leader sends the rest again). Never the last word on
 * memory in normal operation, a guard against a snapshot that does not keep up.
 *
 * Invariants (checked with assert): snapshotIndex <= applied <= committed <= lastIndex, entries are
 * contiguous from snapshotIndex + 1, and a committed entry is never truncated.
 */
import { assert } from '../../bus/assert.js';
import { ProposalDroppedError } from '../errors.js';
import { raftLimits } from './limits.js';
import type { Entry, Snapshot, SnapshotMeta } from './types.js';

export class RaftLog {
  private entries: Entry[];
  private snapshotMeta: SnapshotMeta | null;
  /** A snapshot received from the leader, to be persisted and applied by the next Ready. */
  pendingSnapshot: Snapshot | null = null;
  committed: number;
  applied: number;
  /** Index of the first entry not yet handed out for persistence. */
  unstableFrom: number;
  /** Data bytes of the entries held (everything after the snapshot), kept below `bytesMax`. */
  private bytes = 0;
  private readonly bytesMax: number;

  constructor(snapshot: Snapshot | null, entries: readonly Entry[], options: { committed: number; applied: number; bytesMax?: number }) {
    this.snapshotMeta = snapshot?.meta ?? null;
    this.entries = [...entries];
    this.bytesMax = options.bytesMax ?? raftLimits.logBytesMax;
    assert(this.bytesMax >= 1, 'raft log: bytesMax must be positive');
    for (const entry of this.entries) this.bytes += entry.data.length;
    const first = this.firstIndex();
    this.entries.forEach((entry, offset) => assert(entry.index === first + offset, () => `log entries not contiguous at ${entry.index}, expected ${first + offset}`));
    this.committed = Math.max(options.committed, this.snapshotIndex());
    this.applied = Math.max(options.applied, this.snapshotIndex());
    this.unstableFrom = this.lastIndex() + 1;
    assert(this.committed <= this.lastIndex(), () => `persisted commit ${this.committed} is beyond the last index ${this.lastIndex()}`);
    assert(this.applied <= this.committed, () => `applied ${this.applied} is beyond commit ${this.committed}`);
  }

  snapshotIndex(): number {
    return this.snapshotMeta?.index ?? 0;
  }

  snapshotTerm(): number {
    return this.snapshotMeta?.term ?? 0;
  }

  firstIndex(): number {
    return this.snapshotIndex() + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`; null when compacted away or not (yet) in the log. */
  term(index: number): number | null {
    if (index === this.snapshotIndex()) return this.snapshotTerm();
    return this.entryAt(index)?.term ?? null;
  }

  entryAt(index: number): Entry | undefined {
    return this.entries[index - this.firstIndex()];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [low, high), at most `bytesMax` of data but always at least one. Null when `low`
   * has been compacted (the caller must fall back to a snapshot).
   */
  slice(low: number, high: number, bytesMax: number): Entry[] | null {
    if (low < this.firstIndex()) return null;
    const end = Math.min(high, this.lastIndex() + 1);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = low; index < end; index++) {
      const entry = this.entryAt(index);
      assert(entry !== undefined, () => `missing log entry ${index}`);
      bytes += entry.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Data bytes of the entries held in memory (after the snapshot). */
  bytesHeld(): number {
    return this.bytes;
  }

  /** Whether `bytes` more fit under `bytesMax`; an empty log always takes one entry. */
  private fits(bytes: number): boolean {
    return bytes === 0 || this.entries.length === 0 || this.bytes + bytes <= this.bytesMax;
  }

  /**
   * The leader appends its own entry. Refused (nothing changes) when the log is full: its entries
   * wait for a snapshot, and holding more would outgrow memory; the client retries.
   */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, () => `append at ${entry.index}, last is ${this.lastIndex()}`);
    if (!this.fits(entry.data.length)) {
      throw new ProposalDroppedError(`the in-memory Raft log holds ${this.bytes} bytes awaiting a snapshot (limit ${this.bytesMax})`);
    }
    this.push(entry);
  }

  private push(entry: Entry): void {
    this.entries.push(entry);
    this.bytes += entry.data.length;
  }

  /**
   * A follower takes entries from an append whose (prevIndex, prevTerm) matched. Entries already
   * present with the same term are skipped; the first conflicting one truncates the log there.
   * Entries beyond `bytesMax` are not taken (the leader resends them once it hears how far we
   * got). Returns the last index the message vouches for and the log now holds.
   */
  appendFromLeader(prevIndex: number, entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (entry.index < this.firstIndex()) continue;
      const existing = this.term(entry.index);
      if (existing === entry.term) continue;
      if (existing !== null) {
        assert(entry.index > this.committed, () => `entry ${entry.index} conflicts with a committed entry (commit ${this.committed})`);
        this.truncateFrom(entry.index);
      }
      assert(entry.index === this.lastIndex() + 1, () => `gap appending ${entry.index} after ${this.lastIndex()}`);
      if (!this.fits(entry.data.length)) return entry.index - 1;
      this.push(entry);
    }
    return prevIndex + entries.length;
  }

  private truncateFrom(index: number): void {
    const dropped = this.entries.splice(index - this.firstIndex());
    for (const entry of dropped) this.bytes -= entry.data.length;
    this.unstableFrom = Math.min(this.unstableFrom, index);
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a rejected leader should probe
   * next, skipping a whole term of conflicting entries per round trip instead of one entry.
   */
  findConflictByTerm(index: number, term: number): number {
    let candidate = Math.min(index, this.lastIndex());
    while (candidate > this.snapshotIndex()) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm !== null && candidateTerm <= term) break;
      candidate--;
    }
    return candidate;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), () => `commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.unstableFrom - this.firstIndex());
  }

  /** Persistence of entries up to (index, term) is confirmed; ignored if the log changed since. */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index >= this.unstableFrom) this.unstableFrom = index + 1;
  }

  /** Whether `nextCommitted` has anything to hand out, without building the list. */
  hasCommittedToApply(): boolean {
    return this.pendingSnapshot === null && this.applied < this.committed;
  }

  /** Committed entries not yet applied, at most `bytesMax` (always at least one when any). */
  nextCommitted(bytesMax: number): Entry[] {
    if (!this.hasCommittedToApply()) return [];
    return this.slice(this.applied + 1, this.committed + 1, bytesMax) ?? [];
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, () => `applying ${index} beyond commit ${this.committed}`);
    this.applied = Math.max(this.applied, index);
  }

  /** Replaces the whole log with a snapshot from the leader (it is ahead of our commit). */
  restore(snapshot: Snapshot): void {
    assert(snapshot.meta.index > this.committed, 'restoring a snapshot that is not ahead of commit');
    this.snapshotMeta = snapshot.meta;
    this.entries = [];
    this.bytes = 0;
    this.committed = snapshot.meta.index;
    this.unstableFrom = snapshot.meta.index + 1;
    this.pendingSnapshot = snapshot;
  }

  /** The snapshot handed out by a Ready is persisted and applied. */
  snapshotApplied(index: number): void {
    if (this.pendingSnapshot?.meta.index === index) this.pendingSnapshot = null;
    this.applied = Math.max(this.applied, index);
  }

  /** The application snapshotted at `meta.index` (already applied): drop entries up to it. */
  compact(meta: SnapshotMeta): void {
    assert(meta.index <= this.applied, () => `compacting to ${meta.index} beyond applied ${this.applied}`);
    if (meta.index <= this.snapshotIndex()) return;
    assert(this.term(meta.index) === meta.term, () => `snapshot term ${meta.term} at ${meta.index} does not match the log`);
    const dropped = this.entries.splice(0, meta.index - this.firstIndex() + 1);
    for (const entry of dropped) this.bytes -= entry.data.length;
    this.snapshotMeta = meta;
    this.unstableFrom = Math.max(this.unstableFrom, meta.index + 1);
  }

  /** Committed but unapplied entries of a type, for the campaign guard. */
  hasUnappliedConfChange(): boolean {
    for (let index = this.applied + 1; index <= this.committed; index++) {
      if (this.entryAt(index)?.type === 'confChange') return true;
    }
    return false;
  }
}
