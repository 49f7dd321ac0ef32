/**
 * Snapshots and membership with real processes: a follower cut off past compaction catches up by
 * snapshot (a state larger than NATS's 1 MB message limit, so it must go in chunks), and members
 * are added (learner, then voter) and removed while writes continue.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { LmdbBackend, type MemberStatus } from '../../store/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { WriteLoad, findLost } from '../support/write-load.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('store snapshots and membership (real processes)', () => {
  let cluster: LocalCluster | null = null;
  let dir = '';

  afterEach(async () => {
    await cluster?.stop();
    cluster = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a follower cut off past compaction catches up by a chunked snapshot larger than 1 MB', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-snapshot-'));
    const c = (cluster = new LocalCluster({ dir, members: 3, snapshotEvery: 50 }));
    await c.start();
    const leader = await c.waitForLeader({ timeoutMs: 20_000 });
    const client = await c.client();
    const follower = c.memberIds.find((id) => id !== leader) as string;
    await c.killAndWait(follower);
    const big = new Uint8Array(64 * 1024).fill(7);
    for (let i = 0; i < 40; i++) await client.put({ key: `snap/big/${i}`, value: big }, { requestId: `snap-big-${i}` });
    for (let i = 0; i < 120; i++) await client.put({ key: `snap/small/${i}`, value: new TextEncoder().encode(String(i)) }, { requestId: `snap-small-${i}` });
    const leaderStatus = await client.status(leader);
    expect(leaderStatus.snapshotIndex).toBeGreaterThan(100);
    await c.restart(follower);
    const caughtUp = await waitUntil(`${follower} to apply the leader's commit index`, async () => {
      const status: MemberStatus = await client.status(follower, { timeoutMs: 1_000 });
      return status.appliedIndex >= leaderStatus.commitIndex ? status : null;
    }, { timeoutMs: 30_000 });
    expect(caughtUp.snapshotIndex).toBeGreaterThan(1);
    const local = await client.range({ key: 'snap/big/', prefix: true }, { consistency: 'serializable', member: follower });
    expect(local.result.kvs.length).toBe(40);
    expect(local.result.kvs.every((kv) => kv.value.length === big.length)).toBe(true);
    const small = await client.range({ key: 'snap/small/', prefix: true }, { consistency: 'serializable', member: follower });
    expect(small.result.kvs.length).toBe(120);
  });

  it('adds a member as learner, promotes it, and removes another, under write load', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-membership-'));
    const c = (cluster = new LocalCluster({ dir, members: 3 }));
    await c.start();
    await c.waitForLeader({ timeoutMs: 20_000 });
    const client = await c.client();
    const load = new WriteLoad(client, { writers: 4, prefix: 'member' });
    load.start();
    await waitUntil('50 acknowledged writes', () => load.report().acknowledged.size >= 50, { timeoutMs: 20_000 });

    await client.changeMembership({ type: 'addLearner', member: 's4' });
    c.addMemberProcess('s4');
    client.setMembers(c.memberIds);
    const leader = await c.waitForLeader({ timeoutMs: 10_000, among: ['s1', 's2', 's3'] });
    await waitUntil('s4 to catch up as a learner', async () => {
      const [mine, theirs] = await Promise.all([client.status('s4', { timeoutMs: 1_000 }), client.status(leader, { timeoutMs: 1_000 })]);
      return mine.conf.learners.includes('s4') && theirs.commitIndex - mine.appliedIndex < 50;
    }, { timeoutMs: 30_000 });
    await client.changeMembership({ type: 'promote', member: 's4' });
    const promoted = await client.status(leader);
    expect([...promoted.conf.voters].sort()).toEqual(['s1', 's2', 's3', 's4']);

    // Remove the current leader: it must hand over and step down.
    const toRemove = await c.waitForLeader({ timeoutMs: 10_000 });
    await client.changeMembership({ type: 'remove', member: toRemove });
    const remaining = c.memberIds.filter((id) => id !== toRemove);
    await c.removeMemberProcess(toRemove);
    client.setMembers(remaining);
    const newLeader = await c.waitForLeader({ timeoutMs: 20_000, among: remaining });
    expect(newLeader).not.toBe(toRemove);
    const finalStatus = await client.status(newLeader);
    expect([...finalStatus.conf.voters].sort()).toEqual(remaining.sort());
    const before = load.report().acknowledged.size;
    await waitUntil('writes continue after the removal', () => load.report().acknowledged.size >= before + 50, { timeoutMs: 20_000 });
    const report = await load.stop();
    const { lost, versionsAboveOne } = await findLost(client, 'member', report.acknowledged);
    expect(lost).toEqual([]);
    expect(versionsAboveOne).toEqual([]);
  });

  it('a member whose log entry is corrupted refuses to start, naming the entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-corrupt-'));
    const c = (cluster = new LocalCluster({ dir, members: 3 }));
    await c.start();
    await c.waitForLeader({ timeoutMs: 20_000 });
    const client = await c.client();
    for (let i = 0; i < 20; i++) await client.put({ key: `corrupt/${i}`, value: new TextEncoder().encode(String(i)) }, { requestId: `corrupt-${i}` });
    const victim = 's3';
    await c.killAndWait(victim);
    const backend = LmdbBackend.open(join(c.dataDir(victim), 'store'), { mapSizeBytes: 1024 * 1024 * 1024 });
    const [last] = backend.table('log').range({ reverse: true, limit: 1 });
    expect(last).toBeDefined();
    const damaged = Uint8Array.from(last!.value);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0xff;
    backend.writeSync(() => backend.table('log').put(last!.key, damaged));
    backend.close();
    await c.restart(victim);
    const code = await c.waitForExit(victim, 30_000);
    expect(code).not.toBe(0);
    expect(readFileSync(c.logPath(victim), 'utf8')).toMatch(/corrupted data in raft log entry \d+/);
    // The other two keep serving.
    await client.put({ key: 'corrupt/after', value: new TextEncoder().encode('ok') }, { requestId: 'corrupt-after' });
  });
});
