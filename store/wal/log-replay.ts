/**
 * Rebuilding the log from the WAL's records, in the order they were written:
 * - an entry at an index at or below the last replaces the tail from that index (Raft overwrite);
 * - a received snapshot's marker empties the log at its index;
 * - a local snapshot's marker (and the marker each segment restates in its header) drops the
 *   entries at or below its index;
 * - the last hard state wins.
 *
 * Decision: the log is kept as one contiguous run of entries. An entry past the run's end starts
 * a new run: that is legitimate only when segments before a snapshot were released (the entries
 * in between were covered by it), so `finish` checks the run reaches down to the final snapshot
 * and names the record where the hole begins otherwise.
 */
import { CorruptedDataError } from '../errors.js';
import type { Entry, HardState, SnapshotMeta } from '../raft/types.js';

export class LogReplay {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: SnapshotMeta | null = null;
  private run: Entry[] = [];
  private runStart = 0;
  /** Where the current run began after a hole, for the error if the hole is never covered. */
  private runStartsAt = '';

  entry(entry: Entry, where: string): void {
    const last = this.runStart + this.run.length - 1;
    if (this.run.length > 0 && entry.index >= this.runStart && entry.index <= last + 1) {
      this.run.length = entry.index - this.runStart;
      this.run.push(entry);
      return;
    }
    this.run = [entry];
    this.runStart = entry.index;
    this.runStartsAt = where;
  }

  marker(meta: SnapshotMeta, received: boolean): void {
    this.snapshot = meta;
    if (received) this.run = [];
    else if (this.run.length > 0 && meta.index >= this.runStart) {
      this.run = this.run.slice(meta.index - this.runStart + 1);
      this.runStart = meta.index + 1;
    }
  }

  finish(): Entry[] {
    const base = this.snapshot?.index ?? 0;
    if (this.run.length > 0 && this.runStart > base + 1) {
      throw new CorruptedDataError(this.runStartsAt, `entries ${base + 1} to ${this.runStart - 1} are missing: the log jumps from the snapshot at ${base} to entry ${this.runStart}`);
    }
    // Entries at or below the snapshot are covered by it (the driver never writes such, but a
    // replay that starts at a restated marker may hold some).
    return this.runStart <= base ? this.run.slice(base - this.runStart + 1) : this.run;
  }
}
