/**
 * The WAL's record format. A record is `[u32 length][u32 CRC-32C][u8 type][payload]`, little
 * endian, padded with zeros to a multiple of 8 bytes; `length` counts the type byte and the
 * payload, which the CRC covers.
 *
 * Decision: the CRC is seeded with the segment's sequence number and the record's offset in it, so
 * a record is valid only where it was written. Entry data are user bytes: without the seed, a value
 * that happens to contain a well-formed record could pass for one when the scan for damage (see
 * segment-scan.ts) looks past a torn tail; with it, a stray copy fails its check.
 *
 * Decision: entries and hard states have a fixed binary layout (u64 numbers as two u32 halves, the
 * data appended raw): they are encoded on every write, and msgpack would cost an allocation and a
 * walk per entry. Snapshot markers are rare and carry the configuration as msgpack.
 */
import { pack, unpack } from 'msgpackr';
import { crc32c } from '../checksum.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../raft/types.js';

export const RecordType = { entry: 1, hardState: 2, snapshot: 3, segmentHeader: 4 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const recordHeaderBytes = 8;
export const segmentFormatVersion = 1;
const twoToThe32 = 0x1_0000_0000;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function alignedRecordBytes(bodyBytes: number): number {
  return (recordHeaderBytes + bodyBytes + 7) & ~7;
}

export function recordSeed(sequence: number, offset: number): number {
  return (Math.imul(offset >>> 0, 0x9e3779b1) ^ (sequence >>> 0) ^ 0x57414c31) >>> 0;
}

export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / twoToThe32), true);
  view.setUint32(at + 4, value >>> 0, true);
}

export function getU64(view: DataView, at: number): number {
  return view.getUint32(at, true) * twoToThe32 + view.getUint32(at + 4, true);
}

export type Decoded =
  | { readonly type: typeof RecordType.entry; readonly entry: Entry }
  | { readonly type: typeof RecordType.hardState; readonly hardState: HardState }
  | { readonly type: typeof RecordType.snapshot; readonly meta: SnapshotMeta; readonly received: boolean }
  | { readonly type: typeof RecordType.segmentHeader; readonly version: number; readonly sequence: number; readonly startsAfter: number };

/** Encodes records into one reusable buffer: one `write` per save. */
export class RecordBuffer {
  private bytes = new Uint8Array(64 * 1024);
  private view = new DataView(this.bytes.buffer);
  private sequence = 0;
  /** The segment offset where the buffer will be written, and the segment's end. */
  private base = 0;
  private limit = 0;
  /** The record being filled (between `open` and `close`): its start, end and checksummed bytes. */
  private pendingStart = 0;
  private pendingEnd = 0;
  private pendingBody = 0;
  /** The last vote encoded: a hard state is written on most saves, its vote rarely changes. */
  private voteText: string | null = null;
  private voteBytes = new Uint8Array(0);
  length = 0;

  begin(sequence: number, base: number, limit: number): void {
    this.sequence = sequence;
    this.base = base;
    this.limit = limit;
    this.length = 0;
  }

  get contents(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** False when the record would run past the segment's end; nothing was added then. */
  addEntry(entry: Entry): boolean {
    const at = this.open(RecordType.entry, 17 + entry.data.length);
    if (at < 0) return false;
    setU64(this.view, at, entry.term);
    setU64(this.view, at + 8, entry.index);
    this.bytes[at + 16] = entry.type === 'confChange' ? 1 : 0;
    this.bytes.set(entry.data, at + 17);
    this.close();
    return true;
  }

  addHardState(hardState: HardState): boolean {
    if (hardState.vote !== null && hardState.vote !== this.voteText) {
      this.voteText = hardState.vote;
      this.voteBytes = textEncoder.encode(hardState.vote);
    }
    const vote = hardState.vote === null ? null : this.voteBytes;
    const at = this.open(RecordType.hardState, 17 + (vote?.length ?? 0));
    if (at < 0) return false;
    setU64(this.view, at, hardState.term);
    setU64(this.view, at + 8, hardState.commit);
    this.bytes[at + 16] = vote === null ? 0 : 1;
    if (vote !== null) this.bytes.set(vote, at + 17);
    this.close();
    return true;
  }

  addSnapshot(meta: SnapshotMeta, received: boolean): boolean {
    const conf = pack({ voters: meta.conf.voters, learners: meta.conf.learners });
    const at = this.open(RecordType.snapshot, 17 + conf.length);
    if (at < 0) return false;
    setU64(this.view, at, meta.index);
    setU64(this.view, at + 8, meta.term);
    this.bytes[at + 16] = received ? 1 : 0;
    this.bytes.set(conf, at + 17);
    this.close();
    return true;
  }

  addSegmentHeader(sequence: number, startsAfter: number): boolean {
    const at = this.open(RecordType.segmentHeader, 17);
    if (at < 0) return false;
    this.bytes[at] = segmentFormatVersion;
    setU64(this.view, at + 1, sequence);
    setU64(this.view, at + 9, startsAfter);
    this.close();
    return true;
  }

  /** Reserves a record with a payload of `payloadBytes`; returns where the payload goes, or -1. */
  private open(type: RecordType, payloadBytes: number): number {
    const total = alignedRecordBytes(1 + payloadBytes);
    if (this.base + this.length + total > this.limit) return -1;
    this.reserve(this.length + total);
    const start = this.length;
    this.bytes.fill(0, start + recordHeaderBytes + 1 + payloadBytes, start + total);
    this.view.setUint32(start, 1 + payloadBytes, true);
    this.bytes[start + recordHeaderBytes] = type;
    this.pendingStart = start;
    this.pendingEnd = start + total;
    this.pendingBody = 1 + payloadBytes;
    return start + recordHeaderBytes + 1;
  }

  private close(): void {
    const start = this.pendingStart;
    const body = this.bytes.subarray(start + recordHeaderBytes, start + recordHeaderBytes + this.pendingBody);
    this.view.setUint32(start + 4, crc32c(body, recordSeed(this.sequence, this.base + start)), true);
    this.length = this.pendingEnd;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(bytes, 2 * this.bytes.length));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

/**
 * The record at `offset` of a segment, or why there is none: a reason string (zero length, past
 * the end, too long, checksum mismatch). A record whose checksum holds but whose payload does not
 * parse is not torn but wrong: that throws `Error` with the reason, for the caller to name the place.
 */
export function readRecord(bytes: Uint8Array, view: DataView, sequence: number, offset: number, recordBytesMax: number): { readonly decoded: Decoded; readonly next: number } | string {
  if (offset + recordHeaderBytes > bytes.length) return 'the segment ends';
  const length = view.getUint32(offset, true);
  if (length === 0) return 'zero length';
  if (length > recordBytesMax) return `length ${length} exceeds the record maximum ${recordBytesMax}`;
  const next = offset + alignedRecordBytes(length);
  if (next > bytes.length) return `length ${length} runs past the segment's end`;
  const body = bytes.subarray(offset + recordHeaderBytes, offset + recordHeaderBytes + length);
  const stored = view.getUint32(offset + 4, true);
  const actual = crc32c(body, recordSeed(sequence, offset));
  if (stored !== actual) return `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
  return { decoded: decodeBody(body), next };
}

function decodeBody(body: Uint8Array): Decoded {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const type = body[0];
  const need = (bytes: number): void => {
    if (body.length < bytes) throw new Error(`record of type ${type} has ${body.length} bytes, needs ${bytes}`);
  };
  switch (type) {
    case RecordType.entry: {
      need(18);
      const entryType: EntryType = body[17] === 1 ? 'confChange' : 'normal';
      return { type, entry: { term: getU64(view, 1), index: getU64(view, 9), type: entryType, data: body.slice(18) } };
    }
    case RecordType.hardState: {
      need(18);
      const vote = body[17] === 1 ? textDecoder.decode(body.subarray(18)) : null;
      return { type, hardState: { term: getU64(view, 1), commit: getU64(view, 9), vote } };
    }
    case RecordType.snapshot: {
      need(18);
      const conf = unpack(body.subarray(18)) as ConfState;
      if (!Array.isArray(conf?.voters) || !Array.isArray(conf?.learners)) throw new Error('snapshot marker without a configuration');
      return { type, meta: { index: getU64(view, 1), term: getU64(view, 9), conf: { voters: conf.voters, learners: conf.learners } }, received: body[17] === 1 };
    }
    case RecordType.segmentHeader:
      need(18);
      return { type, version: body[1] as number, sequence: getU64(view, 2), startsAfter: getU64(view, 10) };
    default:
      throw new Error(`unknown record type ${type}`);
  }
}
