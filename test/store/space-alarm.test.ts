/**
 * A full store refuses writes and keeps running (issue 9, defect E; etcd's NOSPACE alarm).
 *
 * - With a small quota (MemoryBackend), writes that add data are refused with StorageFullError
 *   that reaches the client over the bus as that class (code, used and quota bytes, member);
 *   before proposing without a request id, at apply (remembered for retries) with one;
 *   reads keep working; deletes and compaction apply and free space; the alarm is listed in the
 *   member status; `alarmDisarm` (what `kubus alarm disarm` sends) restores writes.
 * - A follower whose own disk passes its quota raises the alarm through the leader: every member
 *   refuses from the same log index, and their states stay identical.
 * - On LMDB, a member whose store fills up keeps running, and a restart with the full store does
 *   not crash (the size check used to throw inside the Ready loop, at every start).
 *
 * Real members on simulated time and network (test/store/member-harness.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StorageFullError, type MemberStatus } from '../../store/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { makeBackend, type BackendFixture } from './backends.js';
import { MemberHarness } from './member-harness.js';

const value = (bytes: number, fill: number): Uint8Array => new Uint8Array(bytes).fill(fill);
/** Buffer and Uint8Array compare unequal in vitest; compare contents. */
const contents = (bytes: Uint8Array | undefined): number[] | undefined => (bytes === undefined ? undefined : [...bytes]);

/** Puts distinct keys until one is refused; bounded by `attemptsMax`. */
async function fillUntilRefused(h: MemberHarness, options: { valueBytes: number; attemptsMax: number }): Promise<{ refusal: Error; accepted: number }> {
  for (let i = 0; i < options.attemptsMax; i++) {
    try {
      await h.settle(h.client.put({ key: `fill/${i}`, value: value(options.valueBytes, i % 256) }));
    } catch (error) {
      return { refusal: error as Error, accepted: i };
    }
  }
  throw new Error(`no write refused after ${options.attemptsMax} puts`);
}

describe('NOSPACE alarm', () => {
  let harness: MemberHarness | null = null;
  let fixture: BackendFixture | null = null;
  afterEach(() => {
    harness?.stopAll();
    fixture?.dispose();
    harness = null;
    fixture = null;
  });

  it('refuses writes with StorageFull over the bus; reads, deletes and compaction work; disarm restores writes', async () => {
    const disk = new MemoryBackend();
    const h = (harness = new MemberHarness({ ids: ['s1'], openBackend: () => disk }));
    h.start('s1');
    await h.waitForLeader();
    await h.settle(h.client.put({ key: 'kept', value: value(10, 1) }));
    const quotaBytes = disk.space().usedBytes + 64 * 1024;
    disk.setQuotaBytes(quotaBytes);
    const { refusal, accepted } = await fillUntilRefused(h, { valueBytes: 8 * 1024, attemptsMax: 100 });
    expect(accepted).toBeGreaterThan(0);
    expect(refusal).toBeInstanceOf(StorageFullError);
    const full = refusal as StorageFullError;
    expect(full.code).toBe('storageFull');
    expect(full.quotaBytes).toBe(quotaBytes);
    expect(full.usedBytes).toBeGreaterThanOrEqual(quotaBytes);
    expect(full.member).toBe('s1');
    await h.until('the alarm applied', () => h.driver('s1')?.mvcc.alarms().length === 1, 1_000);
    const status: MemberStatus = await h.settle(h.client.status('s1'));
    expect(status.alarms).toEqual([{ alarm: 'nospace', member: 's1', usedBytes: full.usedBytes, quotaBytes }]);
    expect(status.quotaBytes).toBe(quotaBytes);

    // Reads work; other writes that add data are refused; nothing of them applied.
    expect(contents((await h.settle(h.client.get('kept')))?.value)).toEqual([...value(10, 1)]);
    const revision = h.driver('s1')?.mvcc.currentRevision();
    expect(await h.refusal(h.client.txn([], [{ type: 'put', request: { key: 'x', value: value(1, 1) } }], []))).toBeInstanceOf(StorageFullError);
    expect(await h.refusal(h.client.leaseGrant(0, 5_000))).toBeInstanceOf(StorageFullError);
    expect(h.driver('s1')?.mvcc.currentRevision()).toBe(revision);

    // A write with a request id goes to the log behind the alarm and is refused there (it may be
    // the retry of an attempt still in the log); its retry gets the same remembered refusal.
    const logged = await h.refusal(h.client.put({ key: 'y', value: value(1, 1) }, { requestId: 'full-1' }));
    expect(logged).toBeInstanceOf(StorageFullError);
    expect((logged as StorageFullError).fields()).toEqual(full.fields());
    expect((await h.refusal(h.client.put({ key: 'y', value: value(1, 1) }, { requestId: 'full-1' }))).message).toBe(logged.message);
    expect(h.driver('s1')?.mvcc.currentRevision()).toBe(revision);

    // Space is freed by deletes and compaction; the alarm holds until disarmed.
    const deleted = await h.settle(h.client.delete({ key: 'fill/', prefix: true }));
    expect(deleted.deleted).toBe(accepted);
    await h.settle(h.client.compact(deleted.revision));
    expect(disk.space().usedBytes).toBeLessThan(quotaBytes - 32 * 1024);
    expect(await h.refusal(h.client.put({ key: 'x', value: value(1, 1) }))).toBeInstanceOf(StorageFullError);
    expect(await h.settle(h.client.write({ type: 'alarmDisarm' }))).toEqual({ type: 'alarm', revision: deleted.revision, alarms: [] });
    const written = await h.settle(h.client.put({ key: 'x', value: value(1, 1) }));
    expect(written.revision).toBe(deleted.revision + 1);
  });

  it('a follower whose disk fills raises the alarm through the leader; every member refuses alike', async () => {
    const ids = ['s1', 's2', 's3'];
    const disks = new Map(ids.map((id) => [id, new MemoryBackend()]));
    const h = (harness = new MemberHarness({ ids, seed: 3, openBackend: (id) => disks.get(id) as MemoryBackend }));
    for (const id of ids) h.start(id);
    const leader = await h.waitForLeader();
    const follower = ids.find((id) => id !== leader) as string;
    const followerDisk = disks.get(follower) as MemoryBackend;
    followerDisk.setQuotaBytes(followerDisk.space().usedBytes + 32 * 1024);
    const { refusal } = await fillUntilRefused(h, { valueBytes: 4 * 1024, attemptsMax: 200 });
    expect(refusal).toBeInstanceOf(StorageFullError);
    expect((refusal as StorageFullError).member).toBe(follower);
    const leaderDriver = h.driver(leader);
    await h.until('every member applied all', () => ids.every((id) => h.driver(id)?.raftStatus().applied === leaderDriver?.raftStatus().applied), 2_000);
    for (const id of ids) expect(h.driver(id)?.mvcc.alarms().map((alarm) => alarm.member)).toEqual([follower]);
    const hashes = new Set(ids.map((id) => h.driver(id)?.mvcc.hash()));
    expect(hashes.size).toBe(1);
  });

  it('LMDB: a member whose store filled up keeps running and restarts with it without crashing', async () => {
    const disk = (fixture = makeBackend('lmdb', { mapSizeBytes: 2 * 1024 * 1024 }));
    const h = (harness = new MemberHarness({ ids: ['s1'], openBackend: () => disk.backend }));
    h.start('s1');
    await h.waitForLeader();
    const { refusal, accepted } = await fillUntilRefused(h, { valueBytes: 64 * 1024, attemptsMax: 64 });
    expect(refusal).toBeInstanceOf(StorageFullError);
    await h.run(1_000);
    expect(h.state('s1')).toContain('running');
    h.crash('s1');
    disk.restart();
    h.start('s1');
    await h.waitForLeader();
    await h.run(1_000);
    expect(h.state('s1')).toContain('running');
    expect(contents((await h.settle(h.client.get('fill/0')))?.value)).toEqual([...value(64 * 1024, 0)]);
    expect(await h.refusal(h.client.put({ key: 'more', value: value(64 * 1024, 1) }))).toBeInstanceOf(StorageFullError);
    const deleted = await h.settle(h.client.delete({ key: 'fill/', prefix: true }));
    expect(deleted.deleted).toBe(accepted);
  });
});
