/**
 * How the MVCC state maps onto one ordered binary table. Every record lives under a one-byte
 * space prefix so each kind of scan is one contiguous range:
 *
 *   'h' key 0x00 rev(8)      history: the key's record at that revision (put, or tombstone)
 *   'k' key                  latest: the live key's current record (current reads scan only this)
 *   'r' rev(8) sub(4)        revision log: which key changed at that revision, in apply order
 *   'l' id(8)                lease: ttl and last checkpointed remaining time
 *   'a' id(8) key            attachment: key attached to lease id (revoke scans one lease's keys)
 *   'm' name                 meta: current and compact revision
 *
 * Numbers are 8-byte big-endian so byte order is numeric order.
 *
 * Decision: keys may not contain 0x00. Then `key 0x00 rev` sorts a key's history together, in
 * revision order, and before any longer key that starts with it, with no escaping. A range bound
 * that does contain 0x00 (etcd's "\0" end) is mapped to an equivalent bound (`historyBound`).
 */
import { InvalidRequestError } from '../errors.js';
import type { KeyRange } from './types.js';

export const space = {
  attachment: 0x61,
  history: 0x68,
  latest: 0x6b,
  lease: 0x6c,
  meta: 0x6d,
  revision: 0x72,
} as const;

export type Space = (typeof space)[keyof typeof space];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function keyBytes(key: string): Uint8Array {
  return encoder.encode(key);
}

export function keyString(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function concat(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** 8-byte big-endian; numbers up to 2^53 (revisions and lease ids). */
export function uint64Bytes(value: number): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64(out, 0, value);
  return out;
}

/**
 * Writes `value` big-endian at `at`, byte by byte: several times a put, and a DataView per call
 * (as before) was a visible share of the apply.
 */
function writeUint64(out: Uint8Array, at: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  out[at] = high >>> 24;
  out[at + 1] = (high >>> 16) & 0xff;
  out[at + 2] = (high >>> 8) & 0xff;
  out[at + 3] = high & 0xff;
  out[at + 4] = low >>> 24;
  out[at + 5] = (low >>> 16) & 0xff;
  out[at + 6] = (low >>> 8) & 0xff;
  out[at + 7] = low & 0xff;
}

export function readUint64(bytes: Uint8Array, offset = 0): number {
  const high = (((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)) >>> 0;
  const low = (((bytes[offset + 4] as number) << 24) | ((bytes[offset + 5] as number) << 16) | ((bytes[offset + 6] as number) << 8) | (bytes[offset + 7] as number)) >>> 0;
  return high * 2 ** 32 + low;
}

export function spaceStart(prefix: Space): Uint8Array {
  return Uint8Array.of(prefix);
}

export function spaceEnd(prefix: Space): Uint8Array {
  return Uint8Array.of(prefix + 1);
}

export function latestKey(key: Uint8Array): Uint8Array {
  return concat([space.latest], key);
}

export function historyKey(key: Uint8Array, revision: number): Uint8Array {
  // Built in place: one allocation per put instead of four.
  const out = new Uint8Array(key.length + 10);
  out[0] = space.history;
  out.set(key, 1);
  writeUint64(out, key.length + 2, revision);
  return out;
}

/** All history records of one key sort in [historyKeyStart(key), historyKeyEnd(key)). */
export function historyKeyStart(key: Uint8Array): Uint8Array {
  return concat([space.history], key, [0]);
}

export function historyKeyEnd(key: Uint8Array): Uint8Array {
  return concat([space.history], key, [1]);
}

export function parseHistoryKey(tableKey: Uint8Array): { key: Uint8Array; revision: number } {
  return { key: tableKey.subarray(1, tableKey.length - 9), revision: readUint64(tableKey, tableKey.length - 8) };
}

export function revisionKey(revision: number, sub: number): Uint8Array {
  const out = new Uint8Array(13);
  out[0] = space.revision;
  writeUint64(out, 1, revision);
  out[9] = sub >>> 24;
  out[10] = (sub >>> 16) & 0xff;
  out[11] = (sub >>> 8) & 0xff;
  out[12] = sub & 0xff;
  return out;
}

export function revisionStart(revision: number): Uint8Array {
  return concat([space.revision], uint64Bytes(revision));
}

export function parseRevisionKey(tableKey: Uint8Array): number {
  return readUint64(tableKey, 1);
}

export function leaseKey(id: number): Uint8Array {
  return concat([space.lease], uint64Bytes(id));
}

export function attachmentKey(id: number, key: Uint8Array): Uint8Array {
  return concat([space.attachment], uint64Bytes(id), key);
}

export function attachmentStart(id: number): Uint8Array {
  return concat([space.attachment], uint64Bytes(id));
}

export const metaKeys = {
  revision: concat([space.meta], encoder.encode('revision')),
  compactRevision: concat([space.meta], encoder.encode('compactRevision')),
} as const;

/** A range in key bytes: [start, end); `end` null means to the last key. */
export interface ByteRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array | null;
}

/** etcd's prefix end: the smallest key greater than every key with this prefix; null if none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return null;
}

/** The etcd meaning of a KeyRange, in bytes. Validation of the request happens before. */
export function byteRange(range: KeyRange): ByteRange {
  const start = keyBytes(range.key);
  if (range.prefix === true) return { start, end: prefixEnd(start) };
  if (range.end === undefined) return { start, end: concat(start, [0]) };
  if (range.end === '\0') return { start, end: null };
  return { start, end: keyBytes(range.end) };
}

export function inByteRange(key: Uint8Array, range: ByteRange): boolean {
  return compareBytes(key, range.start) >= 0 && (range.end === null || compareBytes(key, range.end) < 0);
}

/**
 * A bound over stored keys (which never contain 0x00) mapped into the history space. If the bound
 * holds a 0x00 at position i, a stored key is below it exactly when it is <= bound[0..i), that is
 * when its history records sort below `h bound[0..i) 0x01`. Otherwise `h bound` works as is.
 */
export function historyBound(bound: Uint8Array): Uint8Array {
  const zero = bound.indexOf(0);
  return zero < 0 ? concat([space.history], bound) : concat([space.history], bound.subarray(0, zero), [1]);
}

export function latestBounds(range: ByteRange): { start: Uint8Array; end: Uint8Array } {
  return { start: latestKey(range.start), end: range.end === null ? spaceEnd(space.latest) : latestKey(range.end) };
}

export function historyBounds(range: ByteRange): { start: Uint8Array; end: Uint8Array } {
  return { start: historyBound(range.start), end: range.end === null ? spaceEnd(space.history) : historyBound(range.end) };
}

/**
 * UTF-8 length of a string, or -1 when it holds a lone surrogate (which UTF-8 cannot carry: the
 * encoder would write U+FFFD and the stored key would differ from the one asked for). One pass
 * over the characters instead of encoding and decoding the key on every write.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code < 0xd800 || code > 0xdfff) bytes += 3;
    else if (code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else {
      return -1;
    }
  }
  return bytes;
}

/** Refuses keys the layout cannot store; shared by every write path. */
export function checkStorableKey(key: unknown, keyBytesMax: number): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidRequestError('a key must be a non-empty string');
  if (key.includes('\0')) throw new InvalidRequestError('a key may not contain U+0000');
  const length = utf8Length(key);
  if (length > keyBytesMax) throw new InvalidRequestError(`key of ${length} bytes exceeds the limit of ${keyBytesMax}`);
  if (length < 0) throw new InvalidRequestError('a key must be well-formed UTF-16 (no lone surrogates)');
}

/** Whether a key lies in a range, by etcd's range semantics (for filtering live events). */
export function rangeContains(range: KeyRange, key: string): boolean {
  return inByteRange(keyBytes(key), byteRange(range));
}
