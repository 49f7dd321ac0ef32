/**
 * The key space of the MVCC store, by etcd's rules: one global revision per changing command,
 * per-key createRevision/modRevision/version (version resets after a delete), ranges by key,
 * prefix, [key, end) and "\0" end, limits and counts, reads at past revisions through
 * tombstones, and refusal of malformed requests. Each test applies commands and reads back.
 */
import { describe, expect, it } from 'vitest';
import { FutureRevisionError, InvalidRequestError } from '../../store/errors.js';
import { keysOf, storeOn, str, text, valueOf } from './harness.js';

describe('MvccStore key space', () => {
  it('advances one revision per put and tracks create/mod revision and version', () => {
    const { store, put } = storeOn();
    expect(store.currentRevision()).toBe(0);
    expect(put('a', '1')).toMatchObject({ type: 'put', revision: 1, prevKv: null });
    put('b', 'x');
    expect(put('a', '2')).toMatchObject({ revision: 3 });
    const [kv] = store.range({ key: 'a' }).kvs;
    expect(kv).toMatchObject({ key: 'a', createRevision: 1, modRevision: 3, version: 2, lease: 0 });
    expect(str(kv?.value ?? new Uint8Array())).toBe('2');
    expect(store.currentRevision()).toBe(3);
  });

  it('returns the previous key only when asked', () => {
    const { apply, put } = storeOn();
    put('a', '1');
    const result = apply({ type: 'put', request: { key: 'a', value: text('2'), prevKv: true } });
    expect(result.type === 'put' && result.prevKv).toMatchObject({ key: 'a', version: 1, modRevision: 1 });
  });

  it('deletes leave tombstones: version resets, older revisions still read the key', () => {
    const { store, put, del } = storeOn();
    put('a', '1');
    put('a', '2');
    expect(del('a')).toMatchObject({ type: 'delete', revision: 3, deleted: 1 });
    expect(valueOf(store, 'a')).toBeNull();
    expect(valueOf(store, 'a', 2)).toBe('2');
    expect(valueOf(store, 'a', 1)).toBe('1');
    put('a', '3');
    expect(store.range({ key: 'a' }).kvs[0]).toMatchObject({ createRevision: 4, modRevision: 4, version: 1 });
    expect(valueOf(store, 'a', 3)).toBeNull();
  });

  it('a delete of nothing does not advance the revision nor produce events', () => {
    const { store, put, del } = storeOn();
    put('a', '1');
    expect(del('missing')).toMatchObject({ revision: 1, deleted: 0 });
    expect(store.currentRevision()).toBe(1);
    expect(store.lastEvents()).toEqual([]);
  });

  it('deletes a range at one revision and returns the deleted keys when asked', () => {
    const { store, put, apply } = storeOn();
    for (const key of ['p/a', 'p/b', 'p/c', 'q']) put(key, key);
    const result = apply({ type: 'delete', request: { key: 'p/', prefix: true, prevKv: true } });
    expect(result).toMatchObject({ revision: 5, deleted: 3 });
    expect(result.type === 'delete' && result.prevKvs.map((kv) => kv.key)).toEqual(['p/a', 'p/b', 'p/c']);
    expect(store.lastEvents().map((event) => [event.type, event.kv.key, event.kv.modRevision])).toEqual([
      ['delete', 'p/a', 5], ['delete', 'p/b', 5], ['delete', 'p/c', 5],
    ]);
    expect(keysOf(store, { key: '', prefix: true })).toEqual(['q']);
  });

  it('ranges by prefix, [key, end), "\\0" end, with limit, count and keysOnly', () => {
    const { store, put } = storeOn();
    for (const key of ['a', 'ab', 'abc', 'b', 'b/1', 'c', 'é']) put(key, `v-${key}`);
    expect(keysOf(store, { key: 'a', prefix: true })).toEqual(['a', 'ab', 'abc']);
    expect(keysOf(store, { key: 'ab', end: 'b/' })).toEqual(['ab', 'abc', 'b']);
    expect(keysOf(store, { key: 'b', end: '\0' })).toEqual(['b', 'b/1', 'c', 'é']);
    expect(keysOf(store, { key: '', prefix: true })).toHaveLength(7);
    expect(keysOf(store, { key: 'c', end: 'a' })).toEqual([]);
    const limited = store.range({ key: '', prefix: true, limit: 2 });
    expect(limited).toMatchObject({ more: true, count: 7, revision: 7 });
    expect(limited.kvs.map((kv) => kv.key)).toEqual(['a', 'ab']);
    const counted = store.range({ key: 'a', prefix: true, countOnly: true });
    expect(counted).toMatchObject({ kvs: [], count: 3, more: false });
    expect(store.range({ key: 'a', keysOnly: true }).kvs[0]?.value).toHaveLength(0);
  });

  it('reads whole ranges at past revisions, with limits, through deletes', () => {
    const { store, put, del } = storeOn();
    put('k/1', 'a'); // 1
    put('k/2', 'b'); // 2
    put('k/1', 'c'); // 3
    del('k/2'); // 4
    put('k/3', 'd'); // 5
    const at = (revision: number) => store.range({ key: 'k/', prefix: true, revision }).kvs.map((kv) => `${kv.key}=${str(kv.value)}@${kv.modRevision}`);
    expect(at(1)).toEqual(['k/1=a@1']);
    expect(at(2)).toEqual(['k/1=a@1', 'k/2=b@2']);
    expect(at(3)).toEqual(['k/1=c@3', 'k/2=b@2']);
    expect(at(4)).toEqual(['k/1=c@3']);
    expect(at(5)).toEqual(['k/1=c@3', 'k/3=d@5']);
    expect(store.range({ key: 'k/', prefix: true, revision: 3, limit: 1 })).toMatchObject({ count: 2, more: true, revision: 5 });
    expect(() => store.range({ key: 'k/1', revision: 6 })).toThrow(FutureRevisionError);
  });

  it('keys are bytewise (UTF-8) ordered, like etcd', () => {
    const { store, put } = storeOn();
    // UTF-16 order would put U+FF5E before U+1F600; UTF-8 bytes order them the other way.
    for (const key of ['\u{1F600}', '\uFF5E', 'z']) put(key, '1');
    expect(keysOf(store, { key: '', prefix: true })).toEqual(['z', '\uFF5E', '\u{1F600}']);
  });

  it('refuses malformed requests with InvalidRequestError and changes nothing', () => {
    const { store, applyKeepingRefusals, put } = storeOn();
    put('a', '1');
    const before = store.hash();
    const refused = [
      { type: 'put', request: { key: '', value: text('x') } },
      { type: 'put', request: { key: 'a\0b', value: text('x') } },
      { type: 'put', request: { key: 'x'.repeat(5000), value: text('x') } },
      { type: 'put', request: { key: 'a', value: 'not bytes' } },
      { type: 'put', request: { key: 'a', value: text('x'), lease: -1 } },
      { type: 'delete', request: { key: '' } },
      { type: 'delete', request: { key: 'a', end: 'b', prefix: true } },
      { type: 'bogus' },
      { type: 'leaseGrant', id: 1, ttlMs: 0 },
    ] as const;
    for (const command of refused) {
      expect(applyKeepingRefusals(command as never), JSON.stringify(command).slice(0, 80)).toBeInstanceOf(InvalidRequestError);
    }
    expect(() => store.range({ key: '' })).toThrow(InvalidRequestError);
    expect(() => store.range({ key: 'a', limit: -1 })).toThrow(InvalidRequestError);
    expect(store.hash()).toBe(before);
    expect(store.currentRevision()).toBe(1);
  });
});
