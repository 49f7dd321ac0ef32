/**
 * Compaction: forget history older than a revision, keeping what a read at that revision needs.
 *
 * After `compact(table, from, to)` (from = previous compact revision):
 * - each key keeps its last record at or before `to` if that record is a put (a read at `to`
 *   still sees it), and loses every older record; a tombstone at or before `to` goes too;
 * - revision-log records at or before `to` are gone (watchers must start after `to`).
 *
 * Decision: incremental. Only keys that changed in (from, to] can have records to drop, and the
 * revision log names them, so a compaction costs the history it removes, not the whole store.
 */
import type { KvTable } from '../backend.js';
import { assert } from '../../bus/assert.js';
import { historyKey, historyKeyStart, keyBytes, revisionStart } from './key-layout.js';
import { decodeEvent, decodeHistory } from './records.js';

export function compactHistory(table: KvTable, from: number, to: number): void {
  assert(to > from, 'compaction must move forward');
  const touched = new Set<string>();
  const logKeys: Uint8Array[] = [];
  for (const entry of table.range({ start: revisionStart(from + 1), end: revisionStart(to + 1) })) {
    touched.add(decodeEvent(entry.value, 'revision log').key);
    logKeys.push(Uint8Array.from(entry.key));
  }
  for (const key of logKeys) table.remove(key);
  // Sorted so the work, and any error, is the same on every member.
  for (const key of [...touched].sort()) compactKey(table, key, to);
}

function compactKey(table: KvTable, key: string, to: number): void {
  const bytes = keyBytes(key);
  const records: { tableKey: Uint8Array; isTombstone: boolean }[] = [];
  for (const entry of table.range({ start: historyKeyStart(bytes), end: historyKey(bytes, to + 1) })) {
    records.push({ tableKey: Uint8Array.from(entry.key), isTombstone: decodeHistory(entry.value, `history ${key}`) === null });
  }
  const last = records.pop();
  for (const record of records) table.remove(record.tableKey);
  if (last?.isTombstone === true) table.remove(last.tableKey);
}
