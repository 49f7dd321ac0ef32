/**
 * The one wire encoding: msgpackr. Everything that crosses the bus (Raft batches, store requests,
 * replies, watch events) goes through `encode`/`decode`, so the format is decided in one place.
 *
 * Decision: one shared `Packr` with `useRecords: false`. Records would make a message depend on
 * structures the receiver learned from earlier messages, which breaks under drops, reordering and
 * restarts; plain maps make every message self-describing. Binary values stay binary
 * (`Uint8Array` in, `Uint8Array`/`Buffer` out), so keys and values need no base64.
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Throws (a msgpackr error) on bytes that are not one msgpack value; callers treat that as a bad message. */
export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
