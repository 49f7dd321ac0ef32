/**
 * Opens a member's data directory as the member process uses it (issue 14):
 * `<dataDir>/store` is the LMDB environment of the state machine (opened noSync), `<dataDir>/wal`
 * the Raft log's WAL segments and snapshot files. A directory written before the WAL is migrated
 * first (store/wal-migration.ts), with one line in the member's log.
 *
 * Decision (the lead's, 15:20): LMDB opened noSync survives a killed process (the kernel's page
 * cache keeps every write) but not a machine crash: its newest meta page may reach the disk
 * before the pages it points to, and LMDB has no page checksums to notice. So a marker file,
 * `<dataDir>/state-machine.json`, records the machine's boot id and whether the last run stopped
 * cleanly: written (and synced) with `clean: false` at open; on a graceful close the environment
 * is synced, then the marker says `clean: true`. At open, an unclean stop under another boot id
 * (or where the boot id cannot be read) means the machine went down under a running member: the
 * environment is set aside (`store.discarded`, one kept) and the state machine is rebuilt from
 * the WAL (the driver restores the WAL's snapshot when the applied index is behind it, then
 * applies the entries after it). A missing marker (a new member, or one written before the WAL,
 * whose LMDB was synced at every commit) is trusted.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../bus/logger.js';
import { LmdbBackend } from './lmdb-backend.js';
import type { MemberStorage } from './member-machine.js';
import { migrateToWal, walDirectory } from './wal-migration.js';
import { NodeWalFiles, WalLog } from './wal/index.js';

export interface MemberStorageOptions {
  readonly mapSizeBytes: number;
  readonly quotaBytes?: number;
  /** Where the migration, a discarded state machine and the WAL's repairs at open are told. */
  readonly logger?: Logger;
  /** The machine's boot id (tests); read from /proc/sys/kernel/random/boot_id by default, null where unreadable. */
  readonly bootId?: string | null;
}

interface Marker {
  readonly bootId: string | null;
  readonly clean: boolean;
}

const markerName = 'state-machine.json';

/** The LMDB environment's directory inside a member's data directory. */
export function stateMachineDirectory(dataDir: string): string {
  return join(dataDir, 'store');
}

export function openMemberStorage(dataDir: string, options: MemberStorageOptions): MemberStorage {
  const bootId = options.bootId !== undefined ? options.bootId : readBootId();
  const marker = readMarker(dataDir);
  if (marker !== null && !marker.clean && (bootId === null || marker.bootId !== bootId)) discardStateMachine(dataDir, options.logger);
  writeMarker(dataDir, { bootId, clean: false });
  const backend = LmdbBackend.open(stateMachineDirectory(dataDir), { mapSizeBytes: options.mapSizeBytes, ...(options.quotaBytes !== undefined ? { quotaBytes: options.quotaBytes } : {}) });
  try {
    const migrated = migrateToWal(dataDir, backend);
    if (migrated !== null) {
      const what = migrated.resumed ? 'finished an interrupted migration of' : 'migrated';
      options.logger?.info(`${what} the Raft log of ${dataDir} from LMDB to the WAL: ${migrated.entries} entries`, { dataDir, entries: migrated.entries });
    }
    const log = new WalLog(new NodeWalFiles(walDirectory(dataDir)), { onRepair: (message) => options.logger?.warn(message, { dataDir }) });
    let closed = false;
    return {
      backend,
      log,
      close: () => {
        if (closed) return;
        closed = true;
        try {
          log.close();
          // What the page cache holds reaches the disk before the marker says it may be trusted.
          backend.writeSync(() => undefined, { durable: true });
        } finally {
          backend.close();
        }
        writeMarker(dataDir, { bootId, clean: true });
      },
    };
  } catch (error) {
    backend.close();
    throw error;
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The marker, or null without one; an unreadable one counts as an unclean stop of an unknown boot. */
function readMarker(dataDir: string): Marker | null {
  const path = join(dataDir, markerName);
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<Marker>;
    return { bootId: typeof value.bootId === 'string' ? value.bootId : null, clean: value.clean === true };
  } catch {
    return { bootId: null, clean: false };
  }
}

/** Written to a temporary file, synced, renamed over the marker, directory synced: never half a marker. */
function writeMarker(dataDir: string, marker: Marker): void {
  const path = join(dataDir, markerName);
  const staging = `${path}.tmp`;
  writeFileSync(staging, JSON.stringify(marker), { mode: 0o600 });
  syncPath(staging);
  renameSync(staging, path);
  syncPath(dataDir);
}

function discardStateMachine(dataDir: string, logger: Logger | undefined): void {
  const current = stateMachineDirectory(dataDir);
  if (!existsSync(current)) return;
  const aside = `${current}.discarded`;
  rmSync(aside, { recursive: true, force: true });
  renameSync(current, aside);
  syncPath(dataDir);
  logger?.warn(`the machine went down while this member ran (its state machine was not synced): set ${current} aside as ${aside}; rebuilding the state machine from the WAL`, { dataDir });
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
