/**
 * The Raft log's durable home, apart from the state machine (issue 14): the log, the hard state
 * and the latest snapshot, written append-only and made durable with one sync per Ready. The
 * state machine (MVCC, dedup, the applied index) lives in the `Backend` without syncs and is
 * re-derived from this log (and its latest snapshot) after a crash.
 *
 * Two implementations: `WalLog` (store/wal/: CRC-checked records in pre-allocated segment files,
 * snapshots in their own files) over real files or the simulation's files, and `BackendRaftLog`
 * (the previous format, the `log`/`meta` tables of LMDB), kept to read and migrate stores written
 * before the WAL.
 */
import type { Entry, HardState, Snapshot } from './raft/types.js';

export interface LoadedRaftLog {
  readonly hardState: HardState;
  /** The latest snapshot (metadata and data), or null before the first. */
  readonly snapshot: Snapshot | null;
  /** Every entry after the snapshot, contiguous, verified. */
  readonly entries: Entry[];
}

export interface RaftLogBatch {
  readonly hardState: HardState | null;
  /** New entries; an entry at an index already held replaces it and everything after it. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: it replaces the whole log, even a tail that agrees with it. */
  readonly snapshot: Snapshot | null;
}

export interface RaftLogStorage {
  /** Reads and verifies everything; once, at start. A torn last record is dropped; damage before it throws CorruptedDataError naming the file and offset. */
  load(): LoadedRaftLog;
  /**
   * Writes one Ready's batch, in order: snapshot, entries, hard state. With `sync` it is on disk
   * when this returns (one data sync for the whole batch); without, it is written but a machine
   * crash may lose it until the next synced save (for a hard state whose only change is the commit
   * index).
   */
  save(batch: RaftLogBatch, options: { readonly sync: boolean }): void;
  /**
   * The member's own snapshot of entries it applied: durable when this returns; the entries it
   * covers may be released (whole segments), those after it are kept.
   */
  saveLocalSnapshot(snapshot: Snapshot): void;
  /** Index of the first entry held (the snapshot's index + 1). */
  firstIndex(): number;
  /** Index of the last entry held, or the snapshot's index when none is. */
  lastIndex(): number;
  /** The term of the entry at `index` when held (or the snapshot's at its index), else null. */
  term(index: number): number | null;
  close(): void;
}
