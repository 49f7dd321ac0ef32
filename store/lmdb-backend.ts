/**
 * The real disk: one LMDB environment holding the `log`, `meta` and `mvcc` tables.
 *
 * Why the dependency: LMDB gives ordered binary keys, multi-table ACID transactions and a
 * crash-safe copy-on-write B-tree with no write-ahead log to replay, so "persist the Raft batch and
 * apply the committed entries in one fsynced transaction" (see backend.ts) is one call.
 *
 * Decision: durability is explicit. `noSync: false` and synchronous `transactionSync` commits mean
 * `writeSync` returns only after LMDB has fsynced, which Raft requires before any message that
 * depends on the write is sent. We never use lmdb-js's asynchronous batched writes.
 *
 * Decision: `mapSizeBytes` is enforced by us. The lmdb-js build of LMDB grows its map on demand
 * instead of failing with MDB_MAP_FULL, so the configured size is checked as a quota on the pages
 * the file uses, before each transaction (like etcd's backend quota). A transaction that starts
 * under the quota may finish over it; the overshoot is bounded by one transaction, itself bounded
 * by the driver's append and request limits. A real MDB_MAP_FULL or ENOSPC from the disk is
 * reported as the same `StorageFullError`.
 */
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';

const noFlushFlags = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;
import { assert } from '../bus/assert.js';
import { KubusError, type ErrorFields } from '../bus/errors.js';
import { tableNames, type TransactionOptions, type Backend, type Bytes, type KeyValue, type KvTable, type RangeOptions, type TableName } from './backend.js';

/** The store ran out of its configured space; writes are refused until the operator raises it. */
export class StorageFullError extends KubusError {
  override readonly name = 'StorageFullError';
  readonly code = 'storageFull';
  constructor(readonly usedBytes: number, readonly mapSizeBytes: number, options?: { cause?: unknown }) {
    super(
      `the store's LMDB map is full: ${usedBytes} bytes used of ${mapSizeBytes} allowed; ` +
        'writes are refused until the member is restarted with a larger --map-size-mb ' +
        '(LMDB files never shrink, so compaction alone cannot bring it back under)',
      options,
    );
  }
  override fields(): ErrorFields {
    return { usedBytes: this.usedBytes, mapSizeBytes: this.mapSizeBytes };
  }
}

export interface LmdbBackendOptions {
  /** The most the data file may grow to. */
  readonly mapSizeBytes: number;
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

  private constructor(
    private readonly root: RootDatabase,
    private readonly mapSizeBytes: number,
  ) {
    for (const name of tableNames) {
      const database = root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary', cache: false });
      this.tables.set(name, new LmdbTable(database, () => this.depth > 0));
    }
  }

  /** Opens (creating if needed) the environment in directory `path`. */
  static open(path: string, options: LmdbBackendOptions): LmdbBackend {
    assert(Number.isSafeInteger(options.mapSizeBytes) && options.mapSizeBytes > 0, 'LmdbBackend: mapSizeBytes must be a positive integer');
    const root = open({
      path,
      mapSize: options.mapSizeBytes,
      maxDbs: tableNames.length,
      // Durability is the point: every writeSync is fsynced before it returns.
      noSync: false,
      noMetaSync: false,
      // The root database holds only the table directory; no msgpack structures are shared.
      encoding: 'binary',
    });
    return new LmdbBackend(root, options.mapSizeBytes);
  }

  table(name: TableName): KvTable {
    assert(!this.closed, 'LmdbBackend used after close');
    return this.tables.get(name) as LmdbTable;
  }

  writeSync<T>(fn: () => T, options: TransactionOptions = {}): T {
    assert(!this.closed, 'LmdbBackend used after close');
    // Nested calls join the outer transaction, as in MemoryBackend.
    if (this.depth > 0) return fn();
    const usedBytes = this.usedBytes();
    if (usedBytes >= this.mapSizeBytes) throw new StorageFullError(usedBytes, this.mapSizeBytes);
    this.depth++;
    try {
      // Known limit: measured, lmdb-js 3.5 still fsyncs a synchronous commit with NO_SYNC_FLUSH, so
      // today a non-durable transaction costs as much as a durable one (about 1 ms here). Making it
      // cheap needs the state machine in its own LMDB environment opened with noMetaSync/noSync
      // (see the issue note); the flag is passed so the intent is in one place.
      return options.durable === false ? this.root.transactionSync(fn, noFlushFlags) : this.root.transactionSync(fn);
    } catch (error) {
      if (isStorageFull(error)) throw new StorageFullError(this.usedBytes(), this.mapSizeBytes, { cause: error });
      throw error;
    } finally {
      this.depth--;
    }
  }

  /** Bytes of the data file in use: LMDB's high-water page times the page size. */
  usedBytes(): number {
    const stats = this.root.getStats() as { lastPageNumber: number; pageSize: number };
    return (stats.lastPageNumber + 1) * stats.pageSize;
  }

  /** Idempotent. LMDB closes synchronously under lmdb-js's promise; the promise only reports. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
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
