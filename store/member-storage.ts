/**
 * Opens a member's data directory as the member process uses it (issue 14):
 * `<dataDir>/store` is the LMDB environment of the state machine (opened noSync), `<dataDir>/wal`
 * the Raft log's WAL segments and snapshot files. A directory written before the WAL is migrated
 * first (store/wal-migration.ts), with one line in the member's log.
 */
import { join } from 'node:path';
import type { Logger } from '../bus/logger.js';
import { LmdbBackend } from './lmdb-backend.js';
import type { MemberStorage } from './member-machine.js';
import { migrateToWal, walDirectory } from './wal-migration.js';
import { NodeWalFiles, WalLog } from './wal/index.js';

export interface MemberStorageOptions {
  readonly mapSizeBytes: number;
  readonly quotaBytes?: number;
  /** Where the migration and the WAL's repairs at open (a torn last record truncated) are told. */
  readonly logger?: Logger;
}

/** The LMDB environment's directory inside a member's data directory. */
export function stateMachineDirectory(dataDir: string): string {
  return join(dataDir, 'store');
}

export function openMemberStorage(dataDir: string, options: MemberStorageOptions): MemberStorage {
  const backend = LmdbBackend.open(stateMachineDirectory(dataDir), { mapSizeBytes: options.mapSizeBytes, ...(options.quotaBytes !== undefined ? { quotaBytes: options.quotaBytes } : {}) });
  try {
    const migrated = migrateToWal(dataDir, backend);
    if (migrated !== null) {
      const what = migrated.resumed ? 'finished an interrupted migration of' : 'migrated';
      options.logger?.info(`${what} the Raft log of ${dataDir} from LMDB to the WAL: ${migrated.entries} entries`, { dataDir, entries: migrated.entries });
    }
    const log = new WalLog(new NodeWalFiles(walDirectory(dataDir)), { onRepair: (message) => options.logger?.warn(message, { dataDir }) });
    return { backend, log };
  } catch (error) {
    backend.close();
    throw error;
  }
}
