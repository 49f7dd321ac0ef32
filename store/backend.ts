/**
 * The storage seam under the store: named ordered tables of binary keys, written in atomic,
 * durable transactions. Two implementations share one conformance suite: `LmdbBackend` (one LMDB
 * environment; the real thing) and `MemoryBackend` (the simulation's disk).
 *
 * Decision: the state machine (the MVCC key space, the request dedup table and the applied index)
 * lives in one environment so that a committed entry is applied in the same transaction that
 * records the applied index: a crash never applies an entry twice or skips one. The Raft log, hard
 * state and snapshots live apart, in the WAL (store/raft-log-storage.ts, issue 14); the `log`
 * table remains for the previous format, to migrate it (store/wal-migration.ts).
 */
export type Bytes = Uint8Array;

export const tableNames = ['log', 'meta', 'mvcc'] as const;
export type TableName = (typeof tableNames)[number];

export interface KeyValue {
  readonly key: Bytes;
  readonly value: Bytes;
}

export interface RangeOptions {
  /** Inclusive lower bound; the start of the table when absent. */
  readonly start?: Bytes;
  /** Exclusive upper bound; the end of the table when absent. */
  readonly end?: Bytes;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface TransactionOptions {
  readonly durable?: boolean;
}

/** Keys order bytewise (unsigned), like LMDB's default comparator. */
export interface KvTable {
  get(key: Bytes): Bytes | undefined;
  /** Only inside `Backend.writeSync`. */
  put(key: Bytes, value: Bytes): void;
  /** Only inside `Backend.writeSync`. */
  remove(key: Bytes): void;
  range(options: RangeOptions): Iterable<KeyValue>;
}

/** How much room the data takes, against the quota the store keeps it under (see space-alarm.ts). */
export interface SpaceUsage {
  /** Bytes the stored data occupies now; deletes and compaction bring it down. */
  readonly usedBytes: number;
  /** Above this, writes that add data are refused (the NOSPACE alarm); below the disk's hard limit. */
  readonly quotaBytes: number;
}

export interface Backend {
  table(name: TableName): KvTable;
  /** Never throws: a full store must keep running (deletes and compaction free space). */
  space(): SpaceUsage;
  /**
   * Runs `fn` as one atomic transaction; reads inside see its own writes; if `fn` throws, nothing
   * it wrote is kept. Durable by default: it is on disk when this returns. With
   * `{ durable: false }` it is atomic and visible at once but may be lost in a machine crash until
   * the next durable transaction (which makes everything before it durable too): for work that can
   * be redone from durable data, such as applying entries already durable in the Raft log.
   */
  writeSync<T>(fn: () => T, options?: TransactionOptions): T;
  close(): void;
}
