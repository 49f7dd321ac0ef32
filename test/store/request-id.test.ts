/**
 * Request ids make a write safe to retry: the same request id twice gives one revision and the
 * first result, whether the second arrives after the first applied (the leader answers from the
 * dedup table), while the first is still in the log (apply finds it remembered), or after the
 * member crashed and its LMDB environment was closed and reopened (the table is durable with the
 * write it remembers). Real members on simulated time and network, store client over the bus.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeBackend, type BackendFixture } from './backends.js';
import { MemberHarness } from './member-harness.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('request ids', () => {
  let fixture: BackendFixture | null = null;
  let harness: MemberHarness | null = null;
  afterEach(() => {
    harness?.stopAll();
    fixture?.dispose();
    fixture = null;
    harness = null;
  });

  function oneMember(kind: 'memory' | 'lmdb'): MemberHarness {
    const disk = makeBackend(kind);
    fixture = disk;
    harness = new MemberHarness({ ids: ['s1'], openBackend: () => disk.backend });
    harness.start('s1');
    return harness;
  }

  it('the same request id twice gives one revision and the first result', async () => {
    const h = oneMember('memory');
    await h.waitForLeader();
    const first = await h.settle(h.client.put({ key: 'a', value: text('1') }, { requestId: 'req-1' }));
    const again = await h.settle(h.client.put({ key: 'a', value: text('2') }, { requestId: 'req-1' }));
    expect(again).toEqual(first);
    const driver = h.driver('s1');
    expect(driver?.mvcc.currentRevision()).toBe(first.revision);
    expect(new TextDecoder().decode(driver?.mvcc.range({ key: 'a' }).kvs[0]?.value)).toBe('1');
  });

  it('two proposals of one request id in the log apply once', async () => {
    const h = oneMember('memory');
    await h.waitForLeader();
    const driver = h.driver('s1');
    if (driver === null) throw new Error('no driver');
    const before = driver.mvcc.currentRevision();
    // Both proposed before either applied: the second entry meets the first's result at apply.
    const a = driver.write({ type: 'put', request: { key: 'b', value: text('x') } }, 'req-2');
    const b = driver.write({ type: 'put', request: { key: 'b', value: text('y') } }, 'req-2');
    const [resultA, resultB] = await h.settle(Promise.all([a, b]));
    expect(resultB).toEqual(resultA);
    expect(driver.mvcc.currentRevision()).toBe(before + 1);
    expect(driver.mvcc.range({ key: 'b' }).kvs[0]?.version).toBe(1);
  });

  it('a retry after a crash and reopen of LMDB gives the first result, not a second revision', async () => {
    const h = oneMember('lmdb');
    const disk = fixture as BackendFixture;
    await h.waitForLeader();
    const first = await h.settle(h.client.put({ key: 'c', value: text('1') }, { requestId: 'req-3' }));
    h.crash('s1');
    disk.restart();
    h.start('s1');
    await h.waitForLeader();
    const retried = await h.settle(h.client.put({ key: 'c', value: text('1') }, { requestId: 'req-3' }));
    expect(retried).toEqual(first);
    expect(h.driver('s1')?.mvcc.currentRevision()).toBe(first.revision);
    const other = await h.settle(h.client.put({ key: 'c', value: text('2') }, { requestId: 'req-4' }));
    expect(other.revision).toBe(first.revision + 1);
  });
});
