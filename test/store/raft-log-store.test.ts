/**
 * RaftLogStore on both backends. Each test writes through the store's API in transactions, as
 * the driver does, then reads back through a fresh store after a restart (so the cache cannot
 * hide a missing write). Corruption is injected by rewriting a stored record through the raw
 * table, and must surface as CorruptedDataError naming the record, never as wrong data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../store/backend.js';
import { CompactedError, CorruptedDataError } from '../../store/errors.js';
import { indexKey, RaftLogStore, type RaftSave } from '../../store/raft-log-store.js';
import type { Entry, HardState, Snapshot } from '../../store/raft/types.js';
import { backendKinds, makeBackend, type BackendFixture } from './backends.js';

function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

function range(lo: number, hiInclusive: number, term: number): Entry[] {
  return Array.from({ length: hiInclusive - lo + 1 }, (_, i) => entry(lo + i, term));
}

/** Entries as comparable plain values (Buffer and Uint8Array differ under toEqual). */
function plain(entries: readonly Entry[]): unknown[] {
  return entries.map((e) => ({ ...e, data: [...e.data] }));
}

function snapshotAt(index: number, term: number): Snapshot {
  return { meta: { index, term, conf: { voters: ['s1', 's2', 's3'], learners: ['s4'] } }, data: new TextEncoder().encode(`state@${index}`) };
}

function save(backend: Backend, store: RaftLogStore, batch: Partial<RaftSave>): void {
  backend.writeSync(() => store.save({ hardState: null, entries: [], snapshot: null, ...batch }));
}

/** Rewrites one stored record with one byte flipped, as bit rot would. */
function flipByte(backend: Backend, table: 'log' | 'meta', key: Uint8Array, at: (length: number) => number): void {
  const value = backend.table(table).get(key);
  if (value === undefined) throw new Error('no record to corrupt');
  const damaged = Uint8Array.from(value);
  const position = at(damaged.length);
  damaged[position] = (damaged[position] as number) ^ 0x01;
  backend.writeSync(() => backend.table(table).put(key, damaged));
}

const metaKey = (name: string): Uint8Array => new TextEncoder().encode(`raft/${name}`);

describe.each(backendKinds)('RaftLogStore on %s', (kind) => {
  let fixture: BackendFixture;
  afterEach(() => fixture.dispose());

  function open(): { backend: Backend; store: RaftLogStore } {
    fixture = makeBackend(kind);
    return { backend: fixture.backend, store: new RaftLogStore(fixture.backend) };
  }

  function restarted(): RaftLogStore {
    return new RaftLogStore(fixture.restart());
  }

  it('starts empty', () => {
    const { store } = open();
    expect(store.load()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], applied: 0, conf: null });
    expect([store.firstIndex(), store.lastIndex()]).toEqual([1, 0]);
  });

  it('round-trips hard state, entries, applied index and bootstrap conf across a restart', () => {
    const { backend, store } = open();
    const hardState: HardState = { term: 3, vote: 's2', commit: 4 };
    backend.writeSync(() => store.saveBootstrapConf({ voters: ['s1', 's2'], learners: [] }));
    save(backend, store, { hardState, entries: [...range(1, 3, 1), { index: 4, term: 3, type: 'confChange', data: new Uint8Array(0) }] });
    backend.writeSync(() => store.setApplied(4));
    const loaded = restarted().load();
    expect(loaded.hardState).toEqual(hardState);
    expect(plain(loaded.entries)).toEqual(plain([...range(1, 3, 1), { index: 4, term: 3, type: 'confChange', data: new Uint8Array(0) }]));
    expect(loaded.applied).toBe(4);
    expect(loaded.conf).toEqual({ voters: ['s1', 's2'], learners: [] });
    expect(loaded.snapshot).toBeNull();
  });

  it('serves entry ranges, clamped to the log', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1) });
    expect(plain(store.entries(3, 6))).toEqual(plain(range(3, 5, 1)));
    expect(plain(store.entries(9, 100))).toEqual(plain(range(9, 10, 1)));
    expect(store.entries(11, 12)).toEqual([]);
    expect([store.firstIndex(), store.lastIndex()]).toEqual([1, 10]);
  });

  it('overwrites a conflicting suffix: later entries from the old term are gone', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 8, 1) });
    save(backend, store, { entries: range(5, 6, 2) });
    expect(store.lastIndex()).toBe(6);
    const after = restarted();
    expect(after.lastIndex()).toBe(6);
    expect(plain(after.load().entries)).toEqual(plain([...range(1, 4, 1), ...range(5, 6, 2)]));
  });

  it('refuses an append that would leave a gap', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 3, 1) });
    expect(() => save(backend, store, { entries: range(5, 6, 1) })).toThrow(/gap/);
  });

  it('stores a local snapshot and drops the entries it covers, keeping the matching tail', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1) });
    backend.writeSync(() => store.saveLocalSnapshot(snapshotAt(6, 1)));
    expect([store.firstIndex(), store.lastIndex()]).toEqual([7, 10]);
    expect(() => store.entries(6, 8)).toThrow(CompactedError);
    const after = restarted();
    const loaded = after.load();
    expect(loaded.snapshot?.meta).toEqual(snapshotAt(6, 1).meta);
    expect([...(loaded.snapshot?.data ?? [])]).toEqual([...snapshotAt(6, 1).data]);
    expect(plain(loaded.entries)).toEqual(plain(range(7, 10, 1)));
    expect([after.firstIndex(), after.lastIndex()]).toEqual([7, 10]);
    expect([...fixture.backend.table('log').range({ end: indexKey(7) })]).toEqual([]);
  });

  it('drops the whole log when it does not continue from the snapshot', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 5, 1) });
    // A leader's snapshot from a later term at an index we hold with a different term.
    save(backend, store, { snapshot: snapshotAt(4, 2) });
    expect([store.firstIndex(), store.lastIndex()]).toEqual([5, 4]);
    // Beyond our log entirely.
    save(backend, store, { snapshot: snapshotAt(20, 3), entries: range(21, 22, 3) });
    const loaded = restarted().load();
    expect(loaded.snapshot?.meta.index).toBe(20);
    expect(plain(loaded.entries)).toEqual(plain(range(21, 22, 3)));
  });

  // Defect D: a snapshot received from the leader replaces the whole log in the core
  // (RaftLog.restore), so the disk must drop the whole log too, or a restart brings back a tail
  // the core had discarded.
  it('a received snapshot within the stored log, agreeing at its index, leaves no tail after a restart', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1), hardState: { term: 1, vote: null, commit: 3 } });
    save(backend, store, { snapshot: snapshotAt(6, 1), hardState: { term: 1, vote: null, commit: 6 } });
    expect([store.firstIndex(), store.lastIndex()]).toEqual([7, 6]);
    const after = restarted();
    const loaded = after.load();
    expect(loaded.snapshot?.meta).toEqual(snapshotAt(6, 1).meta);
    expect(loaded.entries).toEqual([]);
    expect([after.firstIndex(), after.lastIndex()]).toEqual([7, 6]);
    expect([...fixture.backend.table('log').range({})]).toEqual([]);
  });

  it('a received snapshot keeps only the entries saved with it, after its index', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1) });
    save(backend, store, { snapshot: snapshotAt(8, 1), entries: range(9, 9, 2) });
    const loaded = restarted().load();
    expect(loaded.snapshot?.meta.index).toBe(8);
    expect(plain(loaded.entries)).toEqual(plain(range(9, 9, 2)));
  });

  it('a received snapshot beyond the stored log replaces it', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1) });
    save(backend, store, { snapshot: snapshotAt(15, 1) });
    const after = restarted();
    expect(after.load().entries).toEqual([]);
    expect([after.firstIndex(), after.lastIndex()]).toEqual([16, 15]);
  });

  it('refuses a local snapshot that does not agree with the stored log', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 5, 1) });
    expect(() => backend.writeSync(() => store.saveLocalSnapshot(snapshotAt(4, 2)))).toThrow(/does not agree/);
    expect(plain(restarted().load().entries)).toEqual(plain(range(1, 5, 1)));
  });

  it('compacts only what the stored snapshot covers', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 10, 1) });
    backend.writeSync(() => store.compact(8));
    expect(plain(store.entries(1, 11))).toEqual(plain(range(1, 10, 1)));
  });

  it('detects a flipped byte in a stored entry', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 5, 1) });
    flipByte(backend, 'log', indexKey(3), (length) => length - 2);
    const fresh = new RaftLogStore(backend);
    expect(() => fresh.load()).toThrow(CorruptedDataError);
    expect(() => fresh.load()).toThrow(/raft log entry 3.*checksum/);
    expect(() => fresh.entries(3, 4)).toThrow(CorruptedDataError);
    expect(plain(fresh.entries(1, 3))).toEqual(plain(range(1, 2, 1)));
  });

  it('detects a missing entry in the middle of the log', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 5, 1) });
    backend.writeSync(() => backend.table('log').remove(indexKey(3)));
    expect(() => new RaftLogStore(backend).load()).toThrow(/raft log entry 3: missing/);
  });

  it('detects a flipped byte in the snapshot data and in its metadata', () => {
    const { backend, store } = open();
    save(backend, store, { snapshot: snapshotAt(6, 1) });
    flipByte(backend, 'meta', metaKey('snapshot-data'), () => 0);
    expect(() => new RaftLogStore(backend).load()).toThrow(/snapshot at 6/);
    save(backend, new RaftLogStore(backend), { snapshot: snapshotAt(7, 1) });
    flipByte(backend, 'meta', metaKey('snapshot-meta'), (length) => length - 1);
    expect(() => new RaftLogStore(backend).load()).toThrow(CorruptedDataError);
  });

  it('detects a flipped byte in the hard state', () => {
    const { backend, store } = open();
    save(backend, store, { hardState: { term: 2, vote: 's1', commit: 0 } });
    flipByte(backend, 'meta', metaKey('hard-state'), (length) => length - 1);
    expect(() => new RaftLogStore(backend).load()).toThrow(/hard state/);
  });

  it('keeps nothing of a save whose transaction aborted (after a restart)', () => {
    const { backend, store } = open();
    save(backend, store, { entries: range(1, 3, 1) });
    expect(() =>
      backend.writeSync(() => {
        store.save({ hardState: { term: 9, vote: null, commit: 0 }, entries: range(4, 6, 9), snapshot: null });
        throw new Error('crash before commit');
      }),
    ).toThrow('crash before commit');
    const loaded = restarted().load();
    expect(loaded.hardState.term).toBe(0);
    expect(plain(loaded.entries)).toEqual(plain(range(1, 3, 1)));
  });
});
