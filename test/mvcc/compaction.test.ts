/**
 * Compaction by etcd's rules: compact(R) keeps everything a read at R or later needs (R itself
 * stays readable; CompactedError below it; FutureRevisionError above the current revision),
 * drops older history and tombstones, refuses to go backwards, and does not advance the revision.
 * We also count the table's records to prove history is actually removed.
 */
import { describe, expect, it } from 'vitest';
import { CompactedError, FutureRevisionError } from '../../store/errors.js';
import type { MvccStore } from '../../store/mvcc/index.js';
import { storeOn, str } from './harness.js';

function snapshotAt(store: MvccStore, revision: number): string[] {
  return store.range({ key: '', prefix: true, revision }).kvs.map((kv) => `${kv.key}=${str(kv.value)}@${kv.modRevision}/v${kv.version}`);
}

describe('MvccStore compaction', () => {
  it('keeps the state at the compact revision and later, refuses older reads', () => {
    const { store, put, del, apply } = storeOn();
    put('a', '1'); // 1
    put('a', '2'); // 2
    put('b', '1'); // 3
    del('b'); // 4
    put('c', '1'); // 5
    put('a', '3'); // 6
    const expected = [4, 5, 6].map((revision) => snapshotAt(store, revision));
    expect(apply({ type: 'compact', revision: 4 })).toMatchObject({ type: 'compact', revision: 6, compactRevision: 4 });
    expect(store.compactRevision()).toBe(4);
    expect(store.currentRevision()).toBe(6);
    expect([4, 5, 6].map((revision) => snapshotAt(store, revision))).toEqual(expected);
    expect(() => store.range({ key: 'a', revision: 3 })).toThrow(CompactedError);
    expect(() => store.range({ key: 'a', revision: 7 })).toThrow(FutureRevisionError);
  });

  it('removes superseded history and tombstones from the table', () => {
    const { backend, store, put, del, apply } = storeOn();
    for (let i = 0; i < 20; i++) put('hot', `${i}`);
    put('gone', 'x');
    del('gone');
    const size = () => [...backend.table('mvcc').range({})].length;
    const before = size();
    apply({ type: 'compact', revision: store.currentRevision() });
    // 19 old 'hot' versions, 'gone' put + tombstone, and 22 revision-log records go; the compact
    // revision's meta record appears.
    expect(before - size()).toBe(19 + 2 + 22 - 1);
    expect(store.range({ key: 'hot' }).kvs[0]).toMatchObject({ version: 20 });
    expect(store.range({ key: 'gone' }).kvs).toEqual([]);
  });

  it('compacts incrementally: a later compaction drops what the earlier one kept', () => {
    const { store, put, apply } = storeOn();
    put('a', '1'); // 1
    put('b', '1'); // 2
    apply({ type: 'compact', revision: 2 });
    put('a', '2'); // 3
    put('a', '3'); // 4
    apply({ type: 'compact', revision: 3 });
    expect(snapshotAt(store, 3)).toEqual(['a=2@3/v2', 'b=1@2/v1']);
    expect(snapshotAt(store, 4)).toEqual(['a=3@4/v3', 'b=1@2/v1']);
    expect(() => store.range({ key: 'a', revision: 2 })).toThrow(CompactedError);
  });

  it('refuses to compact backwards, to the same revision, or into the future; compaction makes no events', () => {
    const { store, put, apply, applyKeepingRefusals } = storeOn();
    put('a', '1');
    put('a', '2');
    apply({ type: 'compact', revision: 2 });
    expect(store.lastEvents()).toEqual([]);
    expect(applyKeepingRefusals({ type: 'compact', revision: 2 })).toBeInstanceOf(CompactedError);
    expect(applyKeepingRefusals({ type: 'compact', revision: 1 })).toBeInstanceOf(CompactedError);
    expect(applyKeepingRefusals({ type: 'compact', revision: 3 })).toBeInstanceOf(FutureRevisionError);
  });
});
