/**
 * Watches against real member processes: ordered, no gaps, no duplicates, resumable on another
 * member when the serving one dies, and a typed Compacted error for a compacted start revision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { CompactedError, RequestTooLargeError, type StoreClient, type WatchEvent } from '../../store/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe.runIf(runs)('store watches (real processes)', () => {
  let cluster: LocalCluster;
  let client: StoreClient;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-watch-'));
    cluster = new LocalCluster({ dir, members: 3 });
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    client = await cluster.client();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays history from a revision, then streams live events in order with previous values', async () => {
    const first = await client.put({ key: 'w1/a', value: text('1') });
    await client.put({ key: 'w1/b', value: text('2') });
    await client.put({ key: 'other', value: text('x') });
    await client.put({ key: 'w1/a', value: text('3') });
    const events: WatchEvent[] = [];
    const watch = await client.watch({ range: { key: 'w1/', prefix: true }, startRevision: first.revision, prevKv: true, onEvents: (batch) => events.push(...batch), onError: (error) => { throw error; } });
    await client.delete({ key: 'w1/b' });
    await waitUntil('4 events', () => events.length >= 4, { timeoutMs: 10_000 });
    watch.close();
    expect(events.map((e) => `${e.type} ${e.kv.key}`)).toEqual(['put w1/a', 'put w1/b', 'put w1/a', 'delete w1/b']);
    const revisions = events.map((e) => e.kv.modRevision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(new TextDecoder().decode(events[2]?.prevKv?.value)).toBe('1');
  });

  it('resumes on another member after the serving member is killed, without gaps or duplicates', async () => {
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watch = await client.watch({ range: { key: 'w2/', prefix: true }, startRevision: 0, renewEveryMs: 300, onEvents: (batch) => events.push(...batch), onError: (error) => errors.push(error) });
    for (let i = 0; i < 20; i++) await client.put({ key: `w2/${i}`, value: text(String(i)) }, { requestId: `w2-${i}` });
    await waitUntil('20 events', () => events.length >= 20, { timeoutMs: 10_000 });
    const serving = (watch as unknown as { member: string }).member;
    await cluster.killAndWait(serving);
    for (let i = 20; i < 40; i++) await client.put({ key: `w2/${i}`, value: text(String(i)) }, { requestId: `w2-${i}` });
    await waitUntil('40 events after the failover', () => events.length >= 40, { timeoutMs: 20_000 });
    watch.close();
    await cluster.restart(serving);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.kv.key)).toEqual(Array.from({ length: 40 }, (_, i) => `w2/${i}`));
  });

  it('refuses a watch from a compacted revision with a typed Compacted error', async () => {
    const old = await client.put({ key: 'w3/a', value: text('1') });
    const latest = await client.put({ key: 'w3/a', value: text('2') });
    await client.compact(latest.revision);
    const failure = await client.watch({ range: { key: 'w3/', prefix: true }, startRevision: old.revision, onEvents: () => undefined, onError: () => undefined }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CompactedError);
    const reads = await client.range({ key: 'w3/a', revision: old.revision }).catch((error: unknown) => error);
    expect(reads).toBeInstanceOf(CompactedError);
  });

  it('a lease keeps its remaining time across a leader change (checkpointed), then expires and deletes its keys', async () => {
    const ttlMs = 6_000;
    const granted = Date.now();
    const lease = await client.leaseGrant(0, ttlMs);
    const id = (lease as { id: number }).id;
    await client.put({ key: 'lease/key', value: text('v'), lease: id });
    // Past two checkpoints (every 2 s), then the leader dies.
    await waitUntil('4.5 s into the lease', () => Date.now() - granted >= 4_500, { timeoutMs: 10_000, intervalMs: 100 });
    expect(await client.get('lease/key')).not.toBeNull();
    const leader = await cluster.waitForLeader({ timeoutMs: 5_000 });
    await cluster.killAndWait(leader);
    await waitUntil('the lease to expire', async () => (await client.get('lease/key', { timeoutMs: 2_000 })) === null, { timeoutMs: 20_000, intervalMs: 100 });
    // A new leader that restarted the full TTL would keep the key until at least 6 s after the kill.
    expect(Date.now() - granted).toBeLessThan(4_500 + ttlMs);
    await cluster.restart(leader);
  });

  it('refuses a request larger than 1.5 MiB with a typed error, and loses nothing', async () => {
    const failure = await client.put({ key: 'big/one', value: new Uint8Array(2 * 1024 * 1024) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestTooLargeError);
    expect((failure as RequestTooLargeError).message).toMatch(/1\.5 MiB|1572864/);
    expect(await client.get('big/one')).toBeNull();
  });
});
