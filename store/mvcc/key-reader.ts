/**
 * Reads of the key space: the latest state from the 'k' space, any retained revision from the
 * 'h' space. Pure reads; safe outside a transaction.
 */
import type { KvTable } from '../backend.js';
import {
  compareBytes, historyBounds, historyKey, historyKeyStart, keyBytes, keyString, latestBounds, latestKey, parseHistoryKey,
  type ByteRange,
} from './key-layout.js';
import { decodeHistory, decodeKey, toKeyValue, withoutValue, type StoredKey } from './records.js';
import type { KeyValue } from './types.js';

export interface ScanOptions {
  /** Most kvs collected; 0 is no limit. `count` still counts every match. */
  readonly limit: number;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
}

export interface ScanResult {
  readonly kvs: KeyValue[];
  readonly count: number;
}

export class KeyReader {
  constructor(private readonly table: KvTable) {}

  latest(key: string): KeyValue | null {
    return this.latestAt(latestKey(keyBytes(key)), key);
  }

  /** `latest` for a caller that already built the key's table key (`latestKey`). */
  latestAt(tableKey: Uint8Array, key: string): KeyValue | null {
    const bytes = this.table.get(tableKey);
    return bytes === undefined ? null : toKeyValue(key, decodeKey(bytes, `latest ${key}`));
  }

  /** The key as it was at `revision`; null if absent then (or compacted away). */
  at(key: string, revision: number): KeyValue | null {
    if (revision <= 0) return null;
    const bytes = keyBytes(key);
    const start = historyKeyStart(bytes);
    for (const entry of this.table.range({ start, end: historyKey(bytes, revision + 1), reverse: true, limit: 1 })) {
      const record = decodeHistory(entry.value, `history ${key}`);
      return record === null ? null : toKeyValue(key, record);
    }
    return null;
  }

  /** The record written at exactly `revision`; null for a tombstone or nothing. */
  writtenAt(key: string, revision: number): KeyValue | null {
    const bytes = this.table.get(historyKey(keyBytes(key), revision));
    if (bytes === undefined) return null;
    const record = decodeHistory(bytes, `history ${key}`);
    return record === null ? null : toKeyValue(key, record);
  }

  scanLatest(range: ByteRange, options: ScanOptions): ScanResult {
    const kvs: KeyValue[] = [];
    let count = 0;
    for (const entry of this.table.range(latestBounds(range))) {
      count++;
      if (options.countOnly || (options.limit > 0 && kvs.length >= options.limit)) continue;
      const key = keyString(entry.key.subarray(1));
      kvs.push(shape(key, decodeKey(entry.value, `latest ${key}`), options));
    }
    return { kvs, count };
  }

  /** Walks each key's history in order and keeps its last record at or before `revision`. */
  scanAt(range: ByteRange, revision: number, options: ScanOptions): ScanResult {
    const kvs: KeyValue[] = [];
    let count = 0;
    let groupKey: Uint8Array | null = null;
    let candidate: Uint8Array | null = null;
    const flush = (): void => {
      if (groupKey === null || candidate === null) return;
      const key = keyString(groupKey);
      const record = decodeHistory(candidate, `history ${key}`);
      if (record === null) return;
      count++;
      if (options.countOnly || (options.limit > 0 && kvs.length >= options.limit)) return;
      kvs.push(shape(key, record, options));
    };
    for (const entry of this.table.range(historyBounds(range))) {
      const parsed = parseHistoryKey(entry.key);
      if (groupKey === null || compareBytes(groupKey, parsed.key) !== 0) {
        flush();
        groupKey = Uint8Array.from(parsed.key);
        candidate = null;
      }
      // Copied: a backend may reuse the buffer of a record once the iteration moves on.
      if (parsed.revision <= revision) candidate = Uint8Array.from(entry.value);
    }
    flush();
    return { kvs, count };
  }
}

function shape(key: string, record: StoredKey, options: ScanOptions): KeyValue {
  const kv = toKeyValue(key, record);
  return options.keysOnly ? withoutValue(kv) : kv;
}
