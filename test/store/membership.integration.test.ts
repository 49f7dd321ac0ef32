/**
 * Snapshots and membership with real processes: a follower cut off past compaction catches up by
 * snapshot (a state larger than NATS's 1 MB message limit, so it must go in chunks), and members
 * are added (learner, then voter) and removed while writes continue.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { walDirectory, type MemberStatus } from '../../store/index.js';
import { recordHeaderBytes, RecordType } from '../../store/wal/record.js';
import { scanSegment, type ScannedRecord } from '../../store/wal/segment-scan.js';
import { walLimits } from '../../store/wal/limits.js';
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

  it('a member whose WAL has a corrupted record in the middle refuses to start, naming the file and offset', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-corrupt-'));
    const c = (cluster = new LocalCluster({ dir, members: 3 }));
    await c.start();
    await c.waitForLeader({ timeoutMs: 20_000 });
    const client = await c.client();
    for (let i = 0; i < 20; i++) await client.put({ key: `corrupt/${i}`, value: new TextEncoder().encode(String(i)) }, { requestId: `corrupt-${i}` });
    const victim = 's3';
    await c.killAndWait(victim);
    const { path, records } = lastSegment(c.dataDir(victim));
    // An entry record with valid records after it: damage in the middle, not a torn tail.
    const entries = records.filter((record) => record.decoded.type === RecordType.entry);
    const target = entries[entries.length - 3];
    expect(target).toBeDefined();
    const bytes = readFileSync(path);
    const at = target!.offset + recordHeaderBytes + 2;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await c.restart(victim);
    const code = await c.waitForExit(victim, 30_000);
    expect(code).not.toBe(0);
    expect(readFileSync(c.logPath(victim), 'utf8')).toContain(`corrupted data in ${basename(path)} at byte ${target!.offset}`);
    // The other two keep serving.
    await client.put({ key: 'corrupt/after', value: new TextEncoder().encode('ok') }, { requestId: 'corrupt-after' });
  });

  it('a member whose WAL ends in a torn record truncates it on open and starts, every write kept', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-torn-'));
    const c = (cluster = new LocalCluster({ dir, members: 3 }));
    await c.start();
    await c.waitForLeader({ timeoutMs: 20_000 });
    const client = await c.client();
    for (let i = 0; i < 20; i++) await client.put({ key: `torn/${i}`, value: new TextEncoder().encode(String(i)) }, { requestId: `torn-${i}` });
    const victim = 's3';
    await c.killAndWait(victim);
    const { path, records, end } = lastSegment(c.dataDir(victim));
    // Half of the last record again, after it: a write the power cut short before its sync.
    const last = records[records.length - 1];
    expect(last).toBeDefined();
    const bytes = readFileSync(path);
    const half = bytes.subarray(last!.offset, last!.offset + Math.max(9, Math.floor((end - last!.offset) / 2)));
    const torn = Buffer.from(half);
    torn[4] = (torn[4] ?? 0) ^ 0xff; // its checksum no longer matches
    bytes.set(torn, end);
    writeFileSync(path, bytes);
    await c.restart(victim);
    await waitUntil('the member reports a torn tail truncated', () => /torn last record at byte \d+/.test(readFileSync(c.logPath(victim), 'utf8')), { timeoutMs: 30_000 });
    expect(c.isRunning(victim)).toBe(true);
    await client.put({ key: 'torn/after', value: new TextEncoder().encode('ok') }, { requestId: 'torn-after' });
    await waitUntil('the member catches up', async () => (await client.status(victim)).appliedIndex >= (await client.status(await c.waitForLeader({ timeoutMs: 20_000 }))).appliedIndex, { timeoutMs: 30_000 });
    const { result } = await client.range({ key: 'torn/', end: 'torn0' }, { consistency: 'serializable', member: victim });
    expect(result.kvs.length).toBe(21);
  });
});

/** The member's last WAL segment: its path, its valid records and where the next would go. */
function lastSegment(dataDir: string): { path: string; records: ScannedRecord[]; end: number } {
  const names = readdirSync(walDirectory(dataDir)).filter((name) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(name)).sort();
  const name = names[names.length - 1];
  expect(name).toBeDefined();
  const path = join(walDirectory(dataDir), name!);
  const scan = scanSegment(new Uint8Array(readFileSync(path)), { file: name!, sequence: Number.parseInt(name!.slice(0, 16), 16), last: true, recordBytesMax: walLimits.recordBytesMax + 64 });
  return { path, records: scan.records, end: scan.end };
}
