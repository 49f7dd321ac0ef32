/**
 * The real disk of the state machine: one LMDB environment holding the `mvcc` and `meta` tables
 * (and the `log` table of the previous format, read once to migrate it: store/wal-migration.ts).
 *
 * Why the dependency: LMDB gives ordered binary keys, multi-table ACID transactions and a
 * copy-on-write B-tree, so "apply a Ready's committed entries and record the applied index" is
 * one atomic transaction.
 *
 * Decision (issue 14): the environment is opened `noSync`. Its commits no longer wait for the
 * disk (measured here: ~0.01 ms instead of ~0.36 ms): the Raft log (the WAL) is the durable record
 * and the state machine is re-derived from it after a crash (store/raft-driver.ts). A durable
 * transaction (`{ durable: true }`, the default) commits and then `fdatasync`s our own descriptor
 * of `data.mdb`: a sync is per inode, not per descriptor, so it flushes every page LMDB wrote
 * through its own (lmdb-js writes pages with pwrite; we never use a writable memory map). Known
 * risk, LMDB's own: with `noSync`, a machine crash (not a process crash: the page cache survives
 * that) between two durable transactions may leave the file's newest meta page pointing at pages
 * that never reached the disk. Durable transactions are few (migration, tests), so such a crash
 * loses the whole environment rather than a suffix; the member then needs its data directory
 * restored or to be added again empty. We never use lmdb-js's asynchronous batched writes.
 *
 * Decision: the space quota is not enforced here. A transaction refused inside the Raft driver's
 * Ready loop (it used to throw StorageFullError before each transaction once the file reached the
 * map size) killed the member after it had sent messages, and again at every restart, since the
 * first Ready persists the election. Instead `space()` reports the pages in use against
 * `quotaBytes`, and the store refuses client writes that add data before proposing them, and at
 * apply once a NOSPACE alarm is in the log (store/space-alarm.ts, etcd's design). Raft, deletes
 * and compaction keep writing. The quota defaults to 3/4 of the map size: the rest absorbs what
 * is written after the quota is reached (Raft entries in flight, the alarm itself, copy-on-write
 * pages of deletes and compaction). A real MDB_MAP_FULL or ENOSPC from the disk is still thrown,
 * as StorageFullError, by the transaction that met it.
 *
 * Decision: "in use" counts the pages of the B-trees (the tables, the table directory and the
 * free list), not the file's high-water mark: LMDB reuses freed pages but never shrinks the file,
 * so a high-water figure would never go down after deletes and compaction and the alarm could
 * never be cleared without a restart.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../bus/assert.js';
import { StorageFullError } from './errors.js';
import { tableNames, type TransactionOptions, type Backend, type Bytes, type KeyValue, type KvTable, type RangeOptions, type SpaceUsage, type TableName } from './backend.js';

export { StorageFullError };

export interface LmdbBackendOptions {
  /** The most the data file may grow to. */
  readonly mapSizeBytes: number;
  /** Pages in use above which writes that add data are refused; default `defaultQuotaBytes(mapSizeBytes)`. */
  readonly quotaBytes?: number;
}

/** 3/4 of the map: the last quarter takes what is still written once the quota is reached. */
export function defaultQuotaBytes(mapSizeBytes: number): number {
  return Math.floor((mapSizeBytes * 3) / 4);
}

interface PageStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

function pagesOf(stats: PageStats): number {
  return stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
}

type BinaryDatabase = Database<Buffer, Buffer>;

/** LMDB's own limit with lmdb-js's build settings; longer keys fail inside the transaction. */
const keyBytesMax = 1978;

/** A view, not a copy: lmdb-js takes Buffers for binary keys and values. */
function toBuffer(bytes: Bytes): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

class LmdbTable implements KvTable {
  constructor(
    private readonly database: BinaryDatabase,
    private readonly inTransaction: () => boolean,
  ) {}

  get(key: Bytes): Bytes | undefined {
    return this.database.get(toBuffer(key));
  }

  put(key: Bytes, value: Bytes): void {
    assert(this.inTransaction(), 'LmdbTable.put outside writeSync');
    assert(key.length > 0 && key.length <= keyBytesMax, () => `LMDB key length ${key.length} outside 1..${keyBytesMax}`);
    this.database.putSync(toBuffer(key), toBuffer(value));
  }

  remove(key: Bytes): void {
    assert(this.inTransaction(), 'LmdbTable.remove outside writeSync');
    this.database.removeSync(toBuffer(key));
  }

  *range(options: RangeOptions): Iterable<KeyValue> {
    // lmdb-js walks a reverse range from `start` down to `end`; our bounds are always
    // [start, end) in key order, so a reverse walk starts (exclusively) at our end.
    const lmdbOptions = options.reverse
      ? {
          reverse: true,
          exclusiveStart: true,
          inclusiveEnd: true,
          ...(options.end !== undefined ? { start: toBuffer(options.end) } : {}),
          ...(options.start !== undefined ? { end: toBuffer(options.start) } : {}),
        }
      : {
          ...(options.start !== undefined ? { start: toBuffer(options.start) } : {}),
          ...(options.end !== undefined ? { end: toBuffer(options.end) } : {}),
        };
    const limited = options.limit !== undefined ? { ...lmdbOptions, limit: options.limit } : lmdbOptions;
    for (const { key, value } of this.database.getRange(limited)) yield { key, value };
  }
}

export class LmdbBackend implements Backend {
  private readonly tables = new Map<TableName, LmdbTable>();
  private depth = 0;
  private closed = false;

  private readonly databases: BinaryDatabase[] = [];
  /** `usedBytes()` until the next transaction: the stats cost a few reads per table. */
  private usedBytesCache: number | null = null;

  private constructor(
    private readonly root: RootDatabase,
    private readonly mapSizeBytes: number,
    private readonly quotaBytes: number,
    /** Our own read-only descriptor of `data.mdb`, to fdatasync after a durable transaction. */
    private readonly dataFd: number,
  ) {
    for (const name of tableNames) {
      const database = root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary', cache: false });
      this.databases.push(database);
      this.tables.set(name, new LmdbTable(database, () => this.depth > 0));
    }
  }

  /** Opens (creating if needed) the environment in directory `path`. */
  static open(path: string, options: LmdbBackendOptions): LmdbBackend {
    assert(Number.isSafeInteger(options.mapSizeBytes) && options.mapSizeBytes > 0, 'LmdbBackend: mapSizeBytes must be a positive integer');
    const quotaBytes = options.quotaBytes ?? defaultQuotaBytes(options.mapSizeBytes);
    assert(Number.isSafeInteger(quotaBytes) && quotaBytes > 0 && quotaBytes <= options.mapSizeBytes, 'LmdbBackend: quotaBytes must be a positive integer no larger than mapSizeBytes');
    const root = open({
      path,
      mapSize: options.mapSizeBytes,
      maxDbs: tableNames.length,
      // Commits do not wait for the disk: the WAL is the durable record (see the file comment).
      noSync: true,
      // The root database holds only the table directory; no msgpack structures are shared.
      encoding: 'binary',
    });
    // lmdb-js keeps the environment in `<path>/data.mdb` (a directory path without an extension).
    const dataFd = openSync(join(path, 'data.mdb'), 'r');
    return new LmdbBackend(root, options.mapSizeBytes, quotaBytes, dataFd);
  }

  table(name: TableName): KvTable {
    assert(!this.closed, 'LmdbBackend used after close');
    return this.tables.get(name) as LmdbTable;
  }

  writeSync<T>(fn: () => T, options: TransactionOptions = {}): T {
    assert(!this.closed, 'LmdbBackend used after close');
    // Nested calls join the outer transaction, as in MemoryBackend.
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      const result = this.root.transactionSync(fn);
      if (options.durable !== false) fdatasyncSync(this.dataFd);
      return result;
    } catch (error) {
      if (isStorageFull(error)) throw new StorageFullError(this.fileBytes(), this.mapSizeBytes, null, undefined, { cause: error });
      throw error;
    } finally {
      this.depth--;
      this.usedBytesCache = null;
    }
  }

  space(): SpaceUsage {
    return { usedBytes: this.usedBytes(), quotaBytes: this.quotaBytes };
  }

  /** Bytes of the pages in use: every B-tree's pages (tables, directory, free list) and the two meta pages. */
  usedBytes(): number {
    if (this.usedBytesCache !== null) return this.usedBytesCache;
    const rootStats = this.root.getStats() as PageStats & { free?: PageStats };
    let pages = 2 + pagesOf(rootStats) + (rootStats.free !== undefined ? pagesOf(rootStats.free) : 0);
    for (const database of this.databases) pages += pagesOf(database.getStats() as PageStats);
    this.usedBytesCache = pages * rootStats.pageSize;
    return this.usedBytesCache;
  }

  /** The file's high-water mark (LMDB never shrinks it). */
  fileBytes(): number {
    const stats = this.root.getStats() as { lastPageNumber: number; pageSize: number };
    return (stats.lastPageNumber + 1) * stats.pageSize;
  }

  /** Idempotent. LMDB closes synchronously under lmdb-js's promise; the promise only reports. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.dataFd);
    this.root.close().catch(() => {
      // Nothing is pending: all our writes are synchronous and already committed.
    });
  }
}

function isStorageFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === 'ENOSPC' || code === -30792 || /MDB_MAP_FULL|ENOSPC|No space left/.test(error.message);
}
