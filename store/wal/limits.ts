/**
 * Sizes and bounds of the write-ahead log, gathered so they can be checked against each other and
 * against the driver's request limit at construction (`checkWalLimits`).
 */
import { assert } from '../../bus/assert.js';
import { driverLimits } from '../driver-limits.js';

const mebibyte = 1024 * 1024;

export const walLimits = {
  /**
   * A segment file's pre-allocated size: 64 MiB, as etcd's SegmentSizeBytes. Large enough that a
   * segment holds tens of thousands of ordinary entries (few rollovers, few files), small enough
   * that one whole segment can be read and CRC-checked at start in well under a second.
   */
  segmentBytes: 64 * mebibyte,
  /**
   * The smallest segment a caller may configure (the simulation uses small segments so that
   * rollover and release happen in short runs): it must hold the largest record twice over.
   */
  segmentBytesMin: 8 * mebibyte,
  /**
   * One record's bytes at most: an entry carries one request (≤ driverLimits.requestBytesMax,
   * 1.5 MiB) plus its framing; snapshot data never goes in a record (it has its own file).
   */
  recordBytesMax: 4 * mebibyte,
  /**
   * A segment's file is zero-filled this far ahead at most, and grows by this much (zeros) when a
   * write comes within half of it of the file's end: not the whole 64 MiB at creation, because every
   * member of every test cluster (hundreds per `npm test`, 3 per `kubus up`) starts a WAL, and
   * small CI disks would fill with zeros. 1 MiB keeps the size (metadata) change to one sync per
   * MiB of log, and the zeros a save may have to write to about a millisecond here.
   */
  preallocateChunkBytes: 1 * mebibyte,
  /** Snapshot files kept: the latest and one generation before it, in case the latest is damaged. */
  snapshotFilesKept: 2,
  /** A snapshot's data at most (it is read whole at start): 8 GiB, as etcd's default quota. */
  snapshotBytesMax: 8 * 1024 * mebibyte,
} as const;

export function checkWalLimits(segmentBytes: number): void {
  assert(Number.isSafeInteger(segmentBytes) && segmentBytes >= walLimits.segmentBytesMin, () => `wal segment of ${segmentBytes} bytes is below the minimum ${walLimits.segmentBytesMin}`);
  assert(segmentBytes % 8 === 0, 'wal segment size must be a multiple of 8 (records are 8-byte aligned)');
  assert(walLimits.recordBytesMax >= driverLimits.requestBytesMax + 1024, 'wal recordBytesMax must hold the largest request and its framing');
  assert(walLimits.segmentBytesMin >= 2 * walLimits.recordBytesMax, 'a wal segment must hold the largest record twice');
  assert(walLimits.preallocateChunkBytes % 8 === 0 && walLimits.preallocateChunkBytes <= walLimits.segmentBytesMin, 'wal preallocation chunk: a multiple of 8, within a segment');
}
