/**
 * The previous format (the `log` table and `raft/*` records of `meta`, store/raft-log-store.ts)
 * behind the `RaftLogStorage` contract: what tests and tools use where a WAL directory is beside
 * the point, and the step that moved the driver onto the contract before the WAL existed.
 *
 * Each `save` is its own backend transaction, durable when asked to sync, so the log and the
 * state machine are written apart as with the WAL (the driver applies in a later, non-durable
 * transaction). On one backend, a durable transaction also makes every earlier non-durable one
 * durable; that only makes a crash lose less.
 */
import type { Backend } from './backend.js';
import type { Snapshot } from './raft/types.js';
import type { LoadedRaftLog, RaftLogBatch, RaftLogStorage } from './raft-log-storage.js';
import { RaftLogStore } from './raft-log-store.js';

export class BackendRaftLog implements RaftLogStorage {
  private readonly store: RaftLogStore;

  constructor(private readonly backend: Backend) {
    this.store = new RaftLogStore(backend);
  }

  load(): LoadedRaftLog {
    const { hardState, snapshot, entries } = this.store.load();
    return { hardState, snapshot, entries };
  }

  save(batch: RaftLogBatch, options: { readonly sync: boolean }): void {
    this.backend.writeSync(() => this.store.save(batch), { durable: options.sync });
  }

  saveLocalSnapshot(snapshot: Snapshot): void {
    this.backend.writeSync(() => this.store.saveLocalSnapshot(snapshot));
  }

  firstIndex(): number {
    return this.store.firstIndex();
  }

  lastIndex(): number {
    return this.store.lastIndex();
  }

  term(index: number): number | null {
    return this.store.term(index);
  }

  /** The backend is its owner's to close. */
  close(): void {}
}
