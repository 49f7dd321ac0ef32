/**
 * Watch replay (`eventsSince`): every change in a range from a revision on, in revision and apply
 * order, with prevKv; the `lastRevision` continuation covers every revision exactly once when a
 * consumer pages through with a small limit (checked against the events recorded at apply time);
 * a revision is never split; and replay at or below the compact revision is refused.
 */
import { describe, expect, it } from 'vitest';
import { CompactedError } from '../../store/errors.js';
import type { MvccStore } from '../../store/mvcc/index.js';
import type { KeyRange, WatchEvent } from '../../store/mvcc/types.js';
import { storeOn, str, text } from './harness.js';

const describeEvent = (event: WatchEvent): string =>
  `${event.type} ${event.kv.key}@${event.kv.modRevision}=${str(event.kv.value)} prev=${event.prevKv === null ? '-' : `${str(event.prevKv.value)}@${event.prevKv.modRevision}`}`;

/** Pages through the log like a watcher: from, then lastRevision + 1, until caught up. */
function replay(store: MvccStore, range: KeyRange, from: number, limit: number): WatchEvent[] {
  const all: WatchEvent[] = [];
  let next = from;
  for (let pages = 0; pages < 1_000; pages++) {
    const { events, lastRevision } = store.eventsSince(range, next, limit);
    all.push(...events);
    if (lastRevision >= store.currentRevision()) return all;
    expect(lastRevision).toBeGreaterThanOrEqual(next);
    next = lastRevision + 1;
  }
  throw new Error('replay did not catch up');
}

describe('MvccStore eventsSince', () => {
  it('replays puts and deletes with prevKv, in order, filtered by range', () => {
    const { store, put, del, apply } = storeOn();
    put('w/a', '1'); // 1
    put('x', 'no'); // 2
    put('w/a', '2'); // 3
    apply({ type: 'txn', request: { compare: [], success: [{ type: 'put', request: { key: 'w/b', value: text('3') } }, { type: 'delete', request: { key: 'w/a' } }], failure: [] } }); // 4
    const { events, lastRevision } = store.eventsSince({ key: 'w/', prefix: true }, 1, 100);
    expect(lastRevision).toBe(4);
    expect(events.map(describeEvent)).toEqual([
      'put w/a@1=1 prev=-',
      'put w/a@3=2 prev=1@1',
      'put w/b@4=3 prev=-',
      'delete w/a@4= prev=2@3',
    ]);
    expect(store.eventsSince({ key: 'w/a' }, 4, 100).events.map(describeEvent)).toEqual(['delete w/a@4= prev=2@3']);
    expect(store.eventsSince({ key: 'w/', prefix: true }, 5, 100)).toEqual({ events: [], lastRevision: 4 });
  });

  it('pages with a small limit without gaps or repeats, and never splits a revision', () => {
    const { store, put, del, apply } = storeOn();
    const recorded: WatchEvent[] = [];
    const record = () => recorded.push(...store.lastEvents());
    for (let i = 0; i < 30; i++) {
      if (i % 7 === 3) del(`k${i % 5}`);
      else if (i % 11 === 5) apply({ type: 'delete', request: { key: 'k', prefix: true } });
      else put(`k${i % 5}`, `${i}`);
      record();
    }
    const full = replay(store, { key: '', prefix: true }, 1, 2);
    expect(full.map(describeEvent)).toEqual(recorded.map(describeEvent));
    // The bulk delete is one revision of several events: a limit of 1 still returns all of it.
    const bulk = recorded.find((event, i) => recorded[i + 1]?.kv.modRevision === event.kv.modRevision);
    expect(bulk).toBeDefined();
    const page = store.eventsSince({ key: '', prefix: true }, bulk?.kv.modRevision ?? 0, 1);
    expect(page.lastRevision).toBe(bulk?.kv.modRevision);
    expect(page.events.length).toBeGreaterThan(1);
  });

  it('refuses replay at or below the compact revision, serves above it with prevKv intact', () => {
    const { store, put, apply } = storeOn();
    put('a', '1'); // 1
    put('a', '2'); // 2
    put('a', '3'); // 3
    apply({ type: 'compact', revision: 2 });
    expect(() => store.eventsSince({ key: 'a' }, 2, 10)).toThrow(CompactedError);
    expect(() => store.eventsSince({ key: 'a' }, 0, 10)).toThrow(CompactedError);
    expect(store.eventsSince({ key: 'a' }, 3, 10).events.map(describeEvent)).toEqual(['put a@3=3 prev=2@2']);
  });

  it('lastEvents matches what replay returns for the same revision', () => {
    const { store, put } = storeOn();
    put('a', '1');
    put('a', '2');
    expect(store.lastEvents().map(describeEvent)).toEqual(store.eventsSince({ key: 'a' }, 2, 10).events.map(describeEvent));
  });

  it('lastEventsRevision is the revision right after an apply with events, 0 after one without', () => {
    const { store, put, del, apply } = storeOn();
    put('a', '1');
    expect(store.lastEventsRevision()).toBe(store.currentRevision());
    apply({ type: 'txn', request: { compare: [], success: [{ type: 'put', request: { key: 'b', value: new Uint8Array(1) } }, { type: 'delete', request: { key: 'a' } }], failure: [] } });
    expect([store.lastEventsRevision(), store.currentRevision()]).toEqual([2, 2]);
    del('missing');
    expect([store.lastEvents().length, store.lastEventsRevision()]).toEqual([0, 0]);
    apply({ type: 'leaseGrant', id: 1, ttlMs: 1_000 });
    expect(store.lastEventsRevision()).toBe(0);
  });
});
