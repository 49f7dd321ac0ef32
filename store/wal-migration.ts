/**
 * Migrates a member's data directory from the previous format (the Raft log, hard state and
 * snapshot in LMDB's `log` and `meta` tables, store/raft-log-store.ts) to the WAL (issue 14), when
 * the member opens it: a store written by the previous version starts without any command.
 *
 * Steps, each safe to interrupt (a restart finishes the job):
 *   1. no `<dataDir>/wal` yet but LMDB holds records of the previous format: write a WAL from them
 *      (snapshot, entries, hard state) into `<dataDir>/wal.migrating` (a leftover from an
 *      interrupted attempt is removed first), synced; sync that directory;
 *   2. rename it to `<dataDir>/wal`; sync `<dataDir>` (the rename is now durable);
 *   3. in one durable LMDB transaction, remove the previous format's records, keeping the state
 *      machine (`mvcc`, dedup) and `raft/applied`.
 * A directory with a WAL and leftover records of the previous format was interrupted between 2
 * and 3: the WAL is complete (it was synced before the rename), so only step 3 runs.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from './backend.js';
import { RaftLogStore } from './raft-log-store.js';
import { NodeWalFiles, WalLog } from './wal/index.js';

export const walMigrationLimits = {
  /** Entries per WAL save while migrating: bounds the one buffer a save coalesces its records into. */
  entriesPerSave: 1_000,
} as const;

export interface WalMigrationResult {
  readonly entries: number;
  /** True when only the old records were left to remove (an interrupted migration finished). */
  readonly resumed: boolean;
}

/** The WAL's directory inside a member's data directory. */
export function walDirectory(dataDir: string): string {
  return join(dataDir, 'wal');
}

/**
 * Migrates `dataDir` when it holds the previous format (see the file comment); null when there is
 * nothing to migrate (a new member, or one already on the WAL). `backend` is the member's LMDB
 * environment at `<dataDir>/store`, open.
 */
export function migrateToWal(dataDir: string, backend: Backend): WalMigrationResult | null {
  const old = new RaftLogStore(backend);
  if (!old.holdsRaftRecords()) return null;
  const target = walDirectory(dataDir);
  if (existsSync(target)) {
    backend.writeSync(() => old.removeRaftRecords());
    return { entries: 0, resumed: true };
  }
  const staging = join(dataDir, 'wal.migrating');
  rmSync(staging, { recursive: true, force: true });
  const state = old.load();
  const wal = new WalLog(new NodeWalFiles(staging));
  try {
    wal.load();
    // The snapshot first (as one received: the log starts after it), then the entries in bounded saves, then the hard state.
    if (state.snapshot !== null) wal.save({ hardState: null, entries: [], snapshot: state.snapshot }, { sync: false });
    for (let at = 0; at < state.entries.length; at += walMigrationLimits.entriesPerSave) {
      wal.save({ hardState: null, entries: state.entries.slice(at, at + walMigrationLimits.entriesPerSave), snapshot: null }, { sync: false });
    }
    wal.save({ hardState: state.hardState, entries: [], snapshot: null }, { sync: true });
  } finally {
    wal.close();
  }
  syncDirectory(staging);
  renameSync(staging, target);
  syncDirectory(dataDir);
  backend.writeSync(() => old.removeRaftRecords());
  return { entries: state.entries.length, resumed: false };
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
