/**
 * The request-dedup table's bound is the retry window, in the proposing leader's time carried by
 * the entries, and a byte cap; not a count. Proven on the table itself (MemoryBackend): 20,000
 * results within one second all stay answerable (a 10,000-entry count bound forgot the first
 * half, so a retry within a second could apply twice above 10,000 writes/s); a result older than
 * the window goes once a later entry shows time passed; an older term's results go only after
 * the new leader's own stamps span a window; the byte cap evicts oldest first; and two members
 * fed the same entries hold byte-identical tables whatever their own clocks say.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../store/memory-backend.js';
import { RequestDedup, requestDedupLimits, type RememberedOutcome } from '../../store/request-dedup.js';

const window = requestDedupLimits.retryWindowMs;

function outcome(revision: number): RememberedOutcome {
  return { ok: true, value: { type: 'put', revision, prevKv: null } };
}

function table(limits?: { retryWindowMs: number; bytesMax: number }): { backend: MemoryBackend; dedup: RequestDedup } {
  const backend = new MemoryBackend();
  return { backend, dedup: new RequestDedup(backend.table('meta'), limits) };
}

describe('RequestDedup bounds', () => {
  it('keeps every result of a 20,000-write burst within one second', () => {
    const { backend, dedup } = table();
    backend.writeSync(() => {
      for (let i = 0; i < 20_000; i++) dedup.remember(`r${i}`, outcome(i + 1), { term: 2, atMs: 1_000 + i / 20 });
    });
    expect(dedup.lookup('r0')).toEqual(outcome(1));
    expect(dedup.lookup('r19999')).toEqual(outcome(20_000));
    expect(dedup.size().entries).toBe(20_000);
  });

  it('forgets a result once a later entry of the same term is stamped a window after it', () => {
    const { backend, dedup } = table();
    backend.writeSync(() => dedup.remember('old', outcome(1), { term: 3, atMs: 5_000 }));
    backend.writeSync(() => dedup.remember('edge', outcome(2), { term: 3, atMs: 5_000 + window }));
    expect(dedup.lookup('old')).toEqual(outcome(1));
    backend.writeSync(() => dedup.remember('later', outcome(3), { term: 3, atMs: 5_001 + window }));
    expect(dedup.lookup('old')).toBeNull();
    expect(dedup.lookup('edge')).toEqual(outcome(2));
    expect(dedup.size().entries).toBe(2);
  });

  it('ages an older term by the new leader\'s own time, whatever the two clocks read', () => {
    const { backend, dedup } = table();
    // The old leader's clock reads far ahead of the new one's: comparing them would evict at once.
    backend.writeSync(() => dedup.remember('term4', outcome(1), { term: 4, atMs: 9_000_000 }));
    backend.writeSync(() => dedup.remember('term5a', outcome(2), { term: 5, atMs: 100 }));
    backend.writeSync(() => dedup.remember('term5b', outcome(3), { term: 5, atMs: 100 + window }));
    expect(dedup.lookup('term4')).toEqual(outcome(1));
    backend.writeSync(() => dedup.remember('term5c', outcome(4), { term: 5, atMs: 101 + window }));
    expect(dedup.lookup('term4')).toBeNull();
    expect(dedup.lookup('term5a')).toBeNull();
    expect(dedup.lookup('term5b')).toEqual(outcome(3));
  });

  it('caps the bytes, evicting the oldest first even inside the window', () => {
    const { backend, dedup } = table({ retryWindowMs: window, bytesMax: 2_000 });
    backend.writeSync(() => {
      for (let i = 0; i < 100; i++) dedup.remember(`r${i}`, outcome(i + 1), { term: 1, atMs: i });
    });
    const { entries, bytes } = dedup.size();
    expect(bytes).toBeLessThanOrEqual(2_000);
    expect(entries).toBeGreaterThan(0);
    expect(dedup.lookup('r99')).toEqual(outcome(100));
    expect(dedup.lookup(`r${99 - entries}`)).toBeNull();
    expect(dedup.lookup(`r${100 - entries}`)).toEqual(outcome(100 - entries + 1));
  });

  it('is identical on two members fed the same entries (eviction reads no local clock)', () => {
    const a = table();
    const b = table();
    for (const { backend, dedup } of [a, b]) {
      backend.writeSync(() => {
        for (let i = 0; i < 500; i++) dedup.remember(`r${i}`, outcome(i), { term: 1 + Math.floor(i / 200), atMs: i * 200 });
      });
    }
    expect(a.dedup.export()).toEqual(b.dedup.export());
    expect(a.dedup.size().entries).toBeLessThan(500);
  });
});
