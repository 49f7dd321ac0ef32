/**
 * The MVCC table as one value: a snapshot is every record in key order, and the digest is a hash
 * of the same. Since the table is the whole state (nothing is cached beside it), equal digests
 * mean equal state machines, and a restored snapshot is the very state that was taken.
 */
import { createHash } from 'node:crypto';
import { pack, unpack } from 'msgpackr';
import type { KvTable } from '../backend.js';
import { CorruptedDataError } from '../errors.js';

/** Bumped when the layout changes, so an old snapshot is refused rather than misread. */
const snapshotFormat = 1;

function allRecords(table: KvTable): Iterable<{ key: Uint8Array; value: Uint8Array }> {
  return table.range({});
}

export function snapshotTable(table: KvTable): Uint8Array {
  const records: Uint8Array[] = [];
  for (const entry of allRecords(table)) records.push(Uint8Array.from(entry.key), Uint8Array.from(entry.value));
  return pack([snapshotFormat, records]);
}

/** Replaces the table's content; inside the caller's write transaction. */
export function restoreTable(table: KvTable, data: Uint8Array): void {
  let decoded: unknown;
  try {
    decoded = unpack(data);
  } catch (error) {
    throw new CorruptedDataError('mvcc snapshot', `undecodable: ${String(error)}`);
  }
  if (!Array.isArray(decoded) || decoded[0] !== snapshotFormat || !Array.isArray(decoded[1]) || decoded[1].length % 2 !== 0) {
    throw new CorruptedDataError('mvcc snapshot', 'unknown format');
  }
  const records = decoded[1] as unknown[];
  if (!records.every((record) => record instanceof Uint8Array)) throw new CorruptedDataError('mvcc snapshot', 'a record is not bytes');
  const existing: Uint8Array[] = [];
  for (const entry of allRecords(table)) existing.push(Uint8Array.from(entry.key));
  for (const key of existing) table.remove(key);
  for (let i = 0; i < records.length; i += 2) table.put(records[i] as Uint8Array, records[i + 1] as Uint8Array);
}

/** SHA-256 over every record, each length-prefixed so record boundaries are part of the digest. */
export function hashTable(table: KvTable): string {
  const hash = createHash('sha256');
  const length = new DataView(new ArrayBuffer(8));
  for (const entry of allRecords(table)) {
    length.setUint32(0, entry.key.length);
    length.setUint32(4, entry.value.length);
    hash.update(new Uint8Array(length.buffer));
    hash.update(entry.key);
    hash.update(entry.value);
  }
  return hash.digest('hex');
}
