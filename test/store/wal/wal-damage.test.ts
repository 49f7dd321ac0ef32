/**
 * What a restart does with a damaged WAL: a torn last record (a write the power cut short) is
 * truncated at every cut point, with zeros or garbage after the cut; a bad record with a valid one
 * after it, a bad byte in a segment that is not the last, or a damaged or missing snapshot file
 * refuse to start with CorruptedDataError naming the file and the byte offset.
 */
import { describe, expect, it } from 'vitest';
import { CorruptedDataError } from '../../../store/errors.js';
import { MemoryWalFiles, WalLog } from '../../../store/wal/index.js';
import { lastNonZeroByte } from '../../../store/wal/zero-bytes.js';
import { batch, entries, entry, smallSegmentBytes, snapshot } from './wal-fixtures.js';

/** A fresh, wholly durable copy of `files`, with `change` applied to the named file's bytes. */
function copyWith(files: MemoryWalFiles, name: string, change: (bytes: Uint8Array) => void): MemoryWalFiles {
  const copy = new MemoryWalFiles();
  for (const file of files.list()) {
    const bytes = files.read(file);
    if (file === name) change(bytes);
    copy.create(file, bytes.length);
    copy.write(file, 0, bytes.subarray(0, lastNonZeroByte(bytes, 0) + 1));
    copy.sync(file);
  }
  copy.syncDirectory();
  return copy;
}

function open(files: MemoryWalFiles, repairs: string[] = []): { log: WalLog; loaded: ReturnType<WalLog['load']> } {
  const log = new WalLog(files, { segmentBytes: smallSegmentBytes, onRepair: (message) => repairs.push(message) });
  return { log, loaded: log.load() };
}

function segmentNames(files: MemoryWalFiles): string[] {
  return files.list().filter((name) => name.endsWith('.wal')).sort();
}

/** Where the next record goes in `name`: after the last non-zero byte, 8-byte aligned. */
function recordsEnd(files: MemoryWalFiles, name: string): number {
  return (lastNonZeroByte(files.read(name), 0) + 1 + 7) & ~7;
}

function loadError(files: MemoryWalFiles): CorruptedDataError {
  try {
    open(files);
  } catch (error) {
    if (error instanceof CorruptedDataError) return error;
    throw error;
  }
  throw new Error('load succeeded on damaged files');
}

describe('WalLog damage', () => {
  it('truncates a torn last record at every cut point (zeros or garbage after the cut), and keeps working', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 3, 1, 20), hardState: { term: 1, vote: 's1', commit: 2 } }), { sync: true });
    const segment = segmentNames(files)[0] as string;
    const start = recordsEnd(files, segment);
    log.save(batch({ entries: [entry(4, 1, 20)] }), { sync: true });
    // The record's bytes without its zero padding: the length field counts the type and payload.
    const end = start + 8 + new DataView(files.read(segment, start, 4).slice().buffer).getUint32(0, true);
    expect(end - start).toBeGreaterThan(40);
    expect(recordsEnd(files, segment)).toBe((end + 7) & ~7);
    for (const filler of [0x00, 0xa5]) {
      for (let cut = 0; cut < end - start; cut++) {
        const torn = copyWith(files, segment, (bytes) => bytes.fill(filler, start + cut, end));
        const repairs: string[] = [];
        const reopened = open(torn, repairs);
        expect(reopened.loaded.entries.map((e) => e.index)).toEqual([1, 2, 3]);
        expect(reopened.loaded.hardState.commit).toBe(2);
        const dirty = !(filler === 0 && cut === 0);
        expect(repairs.length).toBe(dirty ? 1 : 0);
        if (dirty) expect(repairs[0]).toContain(`${segment}: a torn last record at byte ${start}`);
        // The repaired tail takes new records, and a later restart finds them.
        reopened.log.save(batch({ entries: [entry(4, 2, 20)] }), { sync: true });
        const again = open(torn.reopen());
        expect(again.loaded.entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 2]]);
      }
    }
  });

  it('refuses a bad record followed by a valid one, naming the file and the offset', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 3, 1, 20) }), { sync: true });
    const segment = segmentNames(files)[0] as string;
    const start = recordsEnd(files, segment);
    log.save(batch({ entries: entries(4, 5, 1, 20) }), { sync: true });
    const damaged = copyWith(files, segment, (bytes) => {
      bytes[start + 20] = (bytes[start + 20] as number) ^ 0x10;
    });
    const error = loadError(damaged);
    expect(error.where).toBe(`${segment} at byte ${start}`);
    expect(error.message).toContain('followed by a valid record');
  });

  it('treats a sector the last write never reached as torn, even with records of that write after it', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 3, 1, 20) }), { sync: true });
    const segment = segmentNames(files)[0] as string;
    const start = recordsEnd(files, segment);
    log.save(batch({ entries: entries(4, 40, 1, 300), hardState: { term: 1, vote: null, commit: 3 } }), { sync: true });
    // A sector in the middle of that save's bytes stayed zero (written back after the others, never).
    const sector = Math.ceil((start + 4000) / 512) * 512;
    const repairs: string[] = [];
    const reopened = open(copyWith(files, segment, (bytes) => bytes.fill(0, sector, sector + 512)), repairs);
    const kept = reopened.loaded.entries.map((e) => e.index);
    expect(kept.slice(0, 3)).toEqual([1, 2, 3]);
    expect(kept.length).toBeGreaterThan(3);
    expect(kept.length).toBeLessThan(40);
    expect(kept).toEqual(entries(1, kept.length, 1).map((e) => e.index));
    expect(repairs.length).toBe(1);
    // Zeros from a record's start to its sector's end (the record straddles into the next sector,
    // which was written): that sector's new bytes never reached the disk.
    const bytes = files.read(segment);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let record = start;
    while (Math.floor((record + ((8 + view.getUint32(record, true) + 7) & ~7)) / 512) === Math.floor(record / 512)) record += (8 + view.getUint32(record, true) + 7) & ~7;
    expect(record % 512).not.toBe(0);
    const boundary = Math.ceil(record / 512) * 512;
    const partial = copyWith(files, segment, (data) => data.fill(0, record, boundary));
    const partialRepairs: string[] = [];
    const fromPartial = open(partial, partialRepairs).loaded.entries.length;
    expect(fromPartial).toBeLessThan(40);
    expect(partialRepairs[0]).toContain(`at byte ${record}`);
    // The same record with one flipped bit instead (its sectors were written): damage, refused.
    const flipped = copyWith(files, segment, (data) => {
      data[record + 12] = (data[record + 12] as number) ^ 4;
    });
    expect(loadError(flipped).where).toBe(`${segment} at byte ${record}`);
  });

  it('refuses any damage in a segment that is not the last', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    for (let index = 1; index <= 9; index++) log.save(batch({ entries: [entry(index, 1, 1024 * 1024)] }), { sync: true });
    const [first] = segmentNames(files) as [string];
    expect(segmentNames(files).length).toBe(2);
    const lastRecordEnd = recordsEnd(files, first);
    const flipped = copyWith(files, first, (bytes) => {
      bytes[lastRecordEnd - 100] = (bytes[lastRecordEnd - 100] as number) ^ 1;
    });
    const error = loadError(flipped);
    expect(error.where).toMatch(new RegExp(`^${first} at byte \\d+$`));
    const trailing = copyWith(files, first, (bytes) => {
      bytes[lastRecordEnd + 64] = 1;
    });
    expect(loadError(trailing).where).toBe(`${first} at byte ${lastRecordEnd}`);
  });

  it('refuses a damaged, mismatched or missing snapshot file, naming it', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 10, 1) }), { sync: true });
    log.saveLocalSnapshot(snapshot(8, 1, 5000));
    const name = 'snap-0000000000000001-0000000000000008.snap';
    expect(files.list()).toContain(name);
    const flipped = copyWith(files, name, (bytes) => {
      bytes[3000] = (bytes[3000] as number) ^ 0x80;
    });
    expect(loadError(flipped).where).toBe(name);
    const missing = copyWith(files, name, () => {});
    missing.remove(name);
    expect(loadError(missing).message).toContain('missing');
  });

  it('refuses a hole in the sequence of segments', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    for (let index = 1; index <= 16; index++) log.save(batch({ entries: [entry(index, 1, 1024 * 1024)] }), { sync: true });
    const names = segmentNames(files);
    expect(names.length).toBe(3);
    const holed = copyWith(files, names[1] as string, () => {});
    holed.remove(names[1] as string);
    expect(loadError(holed).where).toBe(names[2]);
  });
});
