/**
 * The MVCC table as one value: a snapshot is every record in key order, and the digest is a hash
 * of the same. Since the table is the whole state (nothing is cached beside it), equal digests
 * mean equal state machines, and a restored snapshot is the very state that was taken.
 */
import { createHash } from 'node:crypto';
import { unpack } from 'msgpackr';
import type { KvTable } from '../backend.js';
import { CorruptedDataError } from '../errors.js';

/** Bumped when the layout changes, so an old snapshot is refused rather than misread. */
const snapshotFormat = 1;

function allRecords(table: KvTable): Iterable<{ key: Uint8Array; value: Uint8Array }> {
  return table.range({});
}

/**
 * Decision: the snapshot is written straight into one growing buffer, in the msgpack form it
 * always had (`[format, [key, value, key, value, ...]]`), rather than copying every key and value
 * into its own array for msgpackr to copy again: all members snapshot the whole state at once, and
 * the copies made that a visible stall. The record array's header is a 32-bit count patched at the
 * end (msgpack allows it for any count; the reader is msgpackr's and unchanged), so one pass over
 * the table suffices and a backend that reuses its buffers during iteration is copied from once.
 */
export function snapshotTable(table: KvTable): Uint8Array {
  const out = new GrowingBytes(snapshotInitialBytes);
  // fixarray(2), the format as a positive fixint, array32 with its count patched below.
  out.push(0x92, snapshotFormat, 0xdd, 0, 0, 0, 0);
  let count = 0;
  for (const entry of allRecords(table)) {
    out.bin(entry.key);
    out.bin(entry.value);
    count += 2;
  }
  out.patchUint32(3, count);
  return out.result();
}

/** First buffer of a snapshot; it doubles as needed (a small store's snapshot stays this small). */
const snapshotInitialBytes = 64 * 1024;

class GrowingBytes {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes: number) {
    this.buffer = new Uint8Array(initialBytes);
  }

  push(...bytes: number[]): void {
    this.reserve(bytes.length);
    for (const byte of bytes) this.buffer[this.length++] = byte;
  }

  /** msgpack bin 8/16/32 header, then the bytes. */
  bin(bytes: Uint8Array): void {
    const size = bytes.length;
    this.reserve(size + 5);
    const b = this.buffer;
    if (size < 0x100) {
      b[this.length++] = 0xc4;
      b[this.length++] = size;
    } else if (size < 0x10000) {
      b[this.length++] = 0xc5;
      b[this.length++] = size >>> 8;
      b[this.length++] = size & 0xff;
    } else {
      b[this.length++] = 0xc6;
      this.patchUint32(this.length, size);
      this.length += 4;
    }
    b.set(bytes, this.length);
    this.length += size;
  }

  patchUint32(at: number, value: number): void {
    const b = this.buffer;
    b[at] = value >>> 24;
    b[at + 1] = (value >>> 16) & 0xff;
    b[at + 2] = (value >>> 8) & 0xff;
    b[at + 3] = value & 0xff;
  }

  result(): Uint8Array {
    // A right-sized copy: the Raft core keeps the latest snapshot in memory until the next one.
    return this.buffer.slice(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
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
