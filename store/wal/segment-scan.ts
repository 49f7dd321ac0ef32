/**
 * Reading one segment: its valid records from the start, and a verdict on what follows them.
 *
 * Decision (the torn-tail rule, as etcd's): after the last valid record, a segment holds zeros up
 * to its file's end. In the LAST segment, anything else there is a write that never completed
 * (the power went before its sync), and `repairTail` zeroes it, when either
 * - no valid record starts at any 8-byte boundary after the bad one (zeros or garbage to the end), or
 * - a valid record does follow, but the bytes from the bad record to it include a 512-byte sector
 *   the write never reached (all zeros; or zeros from the bad record to its sector's end): a
 *   disk may persist the sectors of one unsynced write out of order, so later records of that same
 *   write can survive while an earlier sector did not. They were never synced (a sync covers the
 *   whole file), so dropping them with the rest loses nothing a caller was promised.
 * Otherwise the bad bytes sit between records that were written, so the log is damaged in the
 * middle: `CorruptedDataError` names the file and the offset of the first bad record. A segment
 * that is not the last was synced whole before the next one was created, so any non-zero byte
 * after its last record is damage too. (Damage that zeroes a whole sector in the last segment
 * passes for a torn write, as in etcd; Raft then re-fetches those entries from the leader.)
 */
import { CorruptedDataError } from '../errors.js';
import { readRecord, type Decoded } from './record.js';
import type { WalFiles } from './wal-files.js';
import { lastNonZeroByte } from './zero-bytes.js';

export interface ScannedRecord {
  readonly decoded: Decoded;
  readonly offset: number;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Where the next record goes: the end of the last valid record. */
  readonly end: number;
  /** In the last segment: the torn bytes after `end` (up to the last non-zero byte), or null. */
  readonly torn: { readonly reason: string; readonly endBytes: number } | null;
}

export function scanSegment(bytes: Uint8Array, options: { readonly file: string; readonly sequence: number; readonly last: boolean; readonly recordBytesMax: number }): SegmentScan {
  const { file, sequence, recordBytesMax } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: ScannedRecord[] = [];
  let offset = 0;
  let reason = '';
  for (;;) {
    let result;
    try {
      result = readRecord(bytes, view, sequence, offset, recordBytesMax);
    } catch (error) {
      throw new CorruptedDataError(`${file} at byte ${offset}`, `record passes its checksum but does not decode: ${(error as Error).message}`);
    }
    if (typeof result === 'string') {
      reason = result;
      break;
    }
    records.push({ decoded: result.decoded, offset });
    offset = result.next;
  }
  const dirtyEnd = lastNonZeroByte(bytes, offset) + 1;
  if (dirtyEnd <= offset) return { records, end: offset, torn: null };
  if (!options.last) throw new CorruptedDataError(`${file} at byte ${offset}`, `bad record (${reason}) in a segment that is not the last one`);
  for (let later = offset + 8; later + 8 <= dirtyEnd; later += 8) {
    if (view.getUint32(later, true) === 0) continue;
    let found = false;
    try {
      found = typeof readRecord(bytes, view, sequence, later, recordBytesMax) !== 'string';
    } catch {
      found = true;
    }
    if (found) {
      if (unwrittenSector(bytes, offset, later)) break;
      throw new CorruptedDataError(`${file} at byte ${offset}`, `bad record (${reason}) followed by a valid record at byte ${later}`);
    }
  }
  return { records, end: offset, torn: { reason, endBytes: dirtyEnd } };
}

const sectorBytes = 512;

/** True when [from, to) holds a sector a write never reached: zeros to `from`'s sector end, or a whole zero sector. */
function unwrittenSector(bytes: Uint8Array, from: number, to: number): boolean {
  const firstBoundary = Math.ceil(from / sectorBytes) * sectorBytes;
  if (firstBoundary > from && firstBoundary <= to && lastNonZeroByte(bytes.subarray(from, firstBoundary), 0) < 0) return true;
  for (let sector = firstBoundary; sector + sectorBytes <= to; sector += sectorBytes) {
    if (lastNonZeroByte(bytes.subarray(sector, sector + sectorBytes), 0) < 0) return true;
  }
  return false;
}

/** Zeroes a torn tail and syncs it, so the next write lands on clean bytes. */
export function repairTail(files: WalFiles, file: string, from: number, to: number): void {
  const zeroChunkBytes = 1024 * 1024;
  for (let at = from; at < to; at += zeroChunkBytes) files.write(file, at, new Uint8Array(Math.min(zeroChunkBytes, to - at)));
  files.sync(file);
}
