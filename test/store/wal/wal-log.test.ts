/**
 * WalLog's semantics over the simulation's files (and a round trip over real files): what a
 * restart loads equals what was saved, under Raft's overwrite rule, received and local snapshots,
 * segment rollover and the release of segments a snapshot covers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryWalFiles, NodeWalFiles, WalLog, walLimits, type WalFiles } from '../../../store/wal/index.js';
import { batch, entries, entry, smallSegmentBytes, snapshot } from './wal-fixtures.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

function open(files: WalFiles): { log: WalLog; loaded: ReturnType<WalLog['load']> } {
  const log = new WalLog(files, { segmentBytes: smallSegmentBytes });
  return { log, loaded: log.load() };
}

describe('WalLog', () => {
  it('starts empty, and round-trips entries and the hard state (memory and real files)', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubus-wal-'));
    directories.push(directory);
    for (const make of [() => new MemoryWalFiles(), () => new NodeWalFiles(directory)]) {
      let files: WalFiles = make();
      const first = open(files);
      expect(first.loaded).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
      expect([first.log.firstIndex(), first.log.lastIndex(), first.log.term(0)]).toEqual([1, 0, null]);
      first.log.save(batch({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 's1', commit: 2 } }), { sync: true });
      first.log.save(batch({ entries: [{ ...entry(4, 2), type: 'confChange' }], hardState: { term: 2, vote: null, commit: 3 } }), { sync: true });
      expect([first.log.lastIndex(), first.log.term(3), first.log.term(4), first.log.term(5)]).toEqual([4, 1, 2, null]);
      first.log.close();
      files = files instanceof MemoryWalFiles ? files.reopen() : make();
      const second = open(files);
      expect(second.loaded.hardState).toEqual({ term: 2, vote: null, commit: 3 });
      expect(second.loaded.entries).toEqual([...entries(1, 3, 1), { ...entry(4, 2), type: 'confChange' }]);
      expect([second.log.firstIndex(), second.log.lastIndex(), second.log.term(4)]).toEqual([1, 4, 2]);
      second.log.close();
    }
  });

  it('an entry at an index already held replaces it and everything after it', () => {
    let files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 5, 1) }), { sync: true });
    log.save(batch({ entries: entries(3, 4, 2) }), { sync: true });
    expect([log.lastIndex(), log.term(3), log.term(5)]).toEqual([4, 2, null]);
    log.save(batch({ entries: entries(5, 6, 2) }), { sync: true });
    files = files.reopen();
    expect(open(files).loaded.entries).toEqual([...entries(1, 2, 1), ...entries(3, 6, 2)]);
  });

  it('a received snapshot replaces the whole log, even a tail that agrees with it', () => {
    let files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 10, 1) }), { sync: true });
    log.save(batch({ snapshot: snapshot(5, 1), entries: entries(6, 7, 2), hardState: { term: 2, vote: null, commit: 5 } }), { sync: true });
    expect([log.firstIndex(), log.lastIndex(), log.term(5), log.term(4), log.term(8)]).toEqual([6, 7, 1, null, null]);
    files = files.reopen();
    const { loaded } = open(files);
    expect(loaded.snapshot).toEqual(snapshot(5, 1));
    expect(loaded.entries).toEqual(entries(6, 7, 2));
    expect(loaded.hardState.commit).toBe(5);
  });

  it('a local snapshot drops the entries it covers and keeps those after it', () => {
    let files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 10, 1), hardState: { term: 1, vote: 's1', commit: 10 } }), { sync: true });
    log.saveLocalSnapshot(snapshot(6, 1));
    expect([log.firstIndex(), log.lastIndex(), log.term(6), log.term(7)]).toEqual([7, 10, 1, 1]);
    files = files.reopen();
    const { loaded } = open(files);
    expect(loaded.snapshot).toEqual(snapshot(6, 1));
    expect(loaded.entries).toEqual(entries(7, 10, 1));
  });

  it('keeps the latest snapshot file and the one before it, and removes older ones', () => {
    let files = new MemoryWalFiles();
    const { log } = open(files);
    log.save(batch({ entries: entries(1, 10, 1) }), { sync: true });
    for (const index of [2, 4, 6, 8]) log.saveLocalSnapshot(snapshot(index, 1));
    const snaps = () => files.list().filter((name) => name.endsWith('.snap')).sort();
    expect(snaps()).toEqual(['snap-0000000000000001-0000000000000006.snap', 'snap-0000000000000001-0000000000000008.snap']);
    files = files.reopen();
    expect(open(files).loaded.snapshot?.meta.index).toBe(8);
  });

  it('rolls over to a new segment when one fills, and releases the segments a snapshot covers', () => {
    let files = new MemoryWalFiles();
    const { log } = open(files);
    const dataBytes = 1024 * 1024;
    for (let index = 1; index <= 30; index++) log.save(batch({ entries: [entry(index, 1, dataBytes)], hardState: { term: 1, vote: 's1', commit: index - 1 } }), { sync: true });
    const segments = () => files.list().filter((name) => name.endsWith('.wal')).sort();
    // 7 entries of 1 MiB fill an 8 MiB segment: segments hold 1-7, 8-14, 15-21, 22-28, 29-30.
    expect(segments().length).toBe(5);
    expect(segments()[1]).toBe('0000000000000001-0000000000000007.wal');
    files = files.reopen();
    const reopened = open(files);
    expect(reopened.loaded.entries.map((e) => e.index)).toEqual(entries(1, 30, 1).map((e) => e.index));
    expect(reopened.loaded.hardState.commit).toBe(29);
    reopened.log.saveLocalSnapshot(snapshot(15, 1));
    // Segment 2 starts after 14 (≤ 15), so segments 0 and 1 are wholly covered; 2 holds entry 15+.
    expect(segments()).toEqual(['0000000000000002-000000000000000e.wal', '0000000000000003-0000000000000015.wal', '0000000000000004-000000000000001c.wal']);
    files = files.reopen();
    const last = open(files);
    expect(last.loaded.entries.map((e) => e.index)).toEqual(entries(16, 30, 1).map((e) => e.index));
    expect(last.loaded.hardState).toEqual({ term: 1, vote: 's1', commit: 29 });
    expect(last.loaded.snapshot?.meta.index).toBe(15);
  });

  it('zero-fills a segment a chunk ahead of its write offset, not whole at creation', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    const [segment] = files.list() as [string];
    expect(files.size(segment)).toBe(walLimits.preallocateChunkBytes);
    for (let index = 1; index <= 8; index++) log.save(batch({ entries: [entry(index, 1, 300 * 1024)] }), { sync: true });
    // 2.4 MiB written: the file is whole chunks, at least half a chunk past the last record.
    expect(files.size(segment) % walLimits.preallocateChunkBytes).toBe(0);
    expect(files.size(segment)).toBe(3 * walLimits.preallocateChunkBytes);
    const reopened = open(files.reopen());
    expect(reopened.loaded.entries.length).toBe(8);
  });

  it('writes without syncing when asked, and makes it durable at the next synced save', () => {
    const files = new MemoryWalFiles();
    const { log } = open(files);
    const before = files.syncs;
    log.save(batch({ entries: entries(1, 64, 1, 300), hardState: { term: 1, vote: 's1', commit: 0 } }), { sync: true });
    expect(files.syncs - before).toBe(1);
    log.save(batch({ hardState: { term: 1, vote: 's1', commit: 64 } }), { sync: false });
    expect(files.syncs - before).toBe(1);
    log.save(batch({ entries: entries(65, 65, 1) }), { sync: true });
    expect(files.syncs - before).toBe(2);
  });
});
