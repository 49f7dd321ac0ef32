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

export function encodeKey(record: StoredKey): Uint8Array {
  return pack([record.createRevision, record.modRevision, record.version, record.lease, record.value]);
}

export function decodeKey(bytes: Uint8Array, where: string): StoredKey {
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
