/**
 * Encoding of the values stored in the MVCC table (the keys are in key-layout.ts). Records are
 * msgpack arrays of integers and bytes: deterministic (same record, same bytes on every member,
 * which `hash()` compares) and compact.
 *
 * Decision: the latest record ('k' space) repeats the value held by the history record ('h'
 * space). It doubles the bytes of live values, and buys current reads (the common case: lists and
 * gets at "now") one table lookup per key instead of two.
 */
import { pack, unpack } from 'msgpackr';
import { CorruptedDataError } from '../errors.js';
import type { KeyValue } from './types.js';

/** A key at one revision, without the key itself (it is in the table key). */
export interface StoredKey {
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
  readonly value: Uint8Array;
}

export interface StoredLease {
  readonly ttlMs: number;
  readonly remainingMs: number;
}

export interface StoredEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
}

function decode(bytes: Uint8Array, where: string): unknown {
  try {
    return unpack(bytes);
  } catch (error) {
    throw new CorruptedDataError(`mvcc ${where}`, `undecodable record: ${String(error)}`);
  }
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Copies: decoded byte strings may share a buffer the backend reuses. */
function ownBytes(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CorruptedDataError(`mvcc ${where}`, 'value is not bytes');
  return Uint8Array.from(value);
}

/**
 * Decision: key records are written and read by hand in exactly msgpackr's bytes for them (a
 * 5-array of unsigned integers and a bin; `test/mvcc/records.test.ts` holds the two encoders to the
 * same output), because one is written and one read per put and msgpackr's general machinery cost
 * several times more than the record itself. The format on disk is unchanged: a record the fast
 * reader does not recognise (another integer width a different encoder chose) goes to msgpackr.
 */
export function encodeKey(record: StoredKey): Uint8Array {
  const value = record.value;
  const ints = [record.createRevision, record.modRevision, record.version, record.lease];
  let length = 1 + binHeaderBytes(value.length) + value.length;
  for (const n of ints) length += uintBytes(n);
  // Numbers outside what a revision, version or lease id can be: leave them to msgpackr as before.
  if (Number.isNaN(length)) return pack([record.createRevision, record.modRevision, record.version, record.lease, value]);
  const out = new Uint8Array(length);
  out[0] = 0x95;
  let at = 1;
  for (const n of ints) at = writeUint(out, at, n);
  at = writeBinHeader(out, at, value.length);
  out.set(value, at);
  return out;
}

/** msgpack bytes of a non-negative integer as msgpackr writes it; NaN for what it writes otherwise. */
function uintBytes(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  if (n < 0x80) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n <= 0xffffffff) return 5;
  // Above 32 bits msgpackr writes a float64.
  return n <= Number.MAX_SAFE_INTEGER ? 9 : Number.NaN;
}

function writeUint(out: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    out[at] = n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = 0xcc;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = 0xcd;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (n <= 0xffffffff) {
    out[at] = 0xce;
    view.setUint32(at + 1, n);
    return at + 5;
  }
  out[at] = 0xcb;
  view.setFloat64(at + 1, n);
  return at + 9;
}

function binHeaderBytes(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function writeBinHeader(out: Uint8Array, at: number, length: number): number {
  if (length < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    out[at] = 0xc5;
    out[at + 1] = length >>> 8;
    out[at + 2] = length & 0xff;
    return at + 3;
  }
  out[at] = 0xc6;
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(at + 1, length);
  return at + 5;
}

/**
 * Reads a key record in the shapes `encodeKey` writes; null for anything else (msgpackr decides).
 * The value is copied: a backend may reuse the buffer it returned once the next read happens.
 */
function readKeyFast(bytes: Uint8Array): StoredKey | null {
  if (bytes[0] !== 0x95) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ints: number[] = [];
  let at = 1;
  for (let field = 0; field < 4; field++) {
    const tag = bytes[at];
    if (tag === undefined) return null;
    if (tag < 0x80) {
      ints.push(tag);
      at += 1;
    } else if (tag === 0xcc && at + 2 <= bytes.length) {
      ints.push(bytes[at + 1] as number);
      at += 2;
    } else if (tag === 0xcd && at + 3 <= bytes.length) {
      ints.push(view.getUint16(at + 1));
      at += 3;
    } else if (tag === 0xce && at + 5 <= bytes.length) {
      ints.push(view.getUint32(at + 1));
      at += 5;
    } else {
      return null;
    }
  }
  const tag = bytes[at];
  let length: number;
  if (tag === 0xc4 && at + 2 <= bytes.length) {
    length = bytes[at + 1] as number;
    at += 2;
  } else if (tag === 0xc5 && at + 3 <= bytes.length) {
    length = view.getUint16(at + 1);
    at += 3;
  } else if (tag === 0xc6 && at + 5 <= bytes.length) {
    length = view.getUint32(at + 1);
    at += 5;
  } else {
    return null;
  }
  if (at + length !== bytes.length) return null;
  const [createRevision, modRevision, version, lease] = ints as [number, number, number, number];
  // A plain Uint8Array copy (Buffer's slice would be a view).
  const value = new Uint8Array(length);
  value.set(bytes.subarray(at, at + length));
  return { createRevision, modRevision, version, lease, value };
}

export function decodeKey(bytes: Uint8Array, where: string): StoredKey {
  const fast = readKeyFast(bytes);
  if (fast !== null) return fast;
  const fields = decode(bytes, where);
  if (!Array.isArray(fields) || fields.length !== 5 || !fields.slice(0, 4).every(isInteger)) {
    throw new CorruptedDataError(`mvcc ${where}`, 'malformed key record');
  }
  const [createRevision, modRevision, version, lease, value] = fields as [number, number, number, number, unknown];
  return { createRevision, modRevision, version, lease, value: ownBytes(value, where) };
}

/** A history record is a put (a key record) or a tombstone (msgpack nil). */
export const tombstone: Uint8Array = pack(null);

export function decodeHistory(bytes: Uint8Array, where: string): StoredKey | null {
  return bytes.length === tombstone.length && bytes[0] === tombstone[0] ? null : decodeKey(bytes, where);
}

export function encodeLease(record: StoredLease): Uint8Array {
  return pack([record.ttlMs, record.remainingMs]);
}

export function decodeLease(bytes: Uint8Array, where: string): StoredLease {
  const fields = decode(bytes, where);
  if (!Array.isArray(fields) || fields.length !== 2 || !fields.every(isInteger)) {
    throw new CorruptedDataError(`mvcc ${where}`, 'malformed lease record');
  }
  return { ttlMs: fields[0] as number, remainingMs: fields[1] as number };
}

export function encodeEvent(event: StoredEvent): Uint8Array {
  return pack([event.type === 'put' ? 0 : 1, event.key]);
}

export function decodeEvent(bytes: Uint8Array, where: string): StoredEvent {
  const fields = decode(bytes, where);
  if (!Array.isArray(fields) || fields.length !== 2 || (fields[0] !== 0 && fields[0] !== 1) || typeof fields[1] !== 'string') {
    throw new CorruptedDataError(`mvcc ${where}`, 'malformed revision record');
  }
  return { type: fields[0] === 0 ? 'put' : 'delete', key: fields[1] };
}

export function toKeyValue(key: string, record: StoredKey): KeyValue {
  return { key, ...record };
}

export function withoutValue(kv: KeyValue): KeyValue {
  return { ...kv, value: new Uint8Array(0) };
}
