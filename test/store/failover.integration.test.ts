/**
 * The store under real faults: members are real OS processes on a real nats-server; we kill -9,
 * SIGSTOP and restart them by pid and check what the issue promises: acknowledged writes survive,
 * writes stop cleanly without quorum and resume by themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { NoQuorumError, OutcomeUnknownError, storeClientLimits } from '../../store/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { WriteLoad, findLost } from '../support/write-load.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const tickMs = 50;
const electionTicks = 10;
const electionTimeoutMs = tickMs * electionTicks;
const encoder = new TextEncoder();

describe.runIf(runs)('store failover (real processes)', () => {
  let cluster: LocalCluster | null = null;
  let dir = '';

  async function startCluster(): Promise<LocalCluster> {
    dir = mkdtempSync(join(tmpdir(), 'kubus-failover-'));
    cluster = new LocalCluster({ dir, members: 3, tickMs, electionTicks });
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    return cluster;
  }

  afterEach(async () => {
    await cluster?.stop();
    cluster = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of the leader under write load: a new leader, writes resume, no acknowledged write lost', async () => {
    const c = await startCluster();
    const client = await c.client();
    const load = new WriteLoad(client, { writers: 8, prefix: 'kill-leader' });
    load.start();
    await waitUntil('100 acknowledged writes', () => load.report().acknowledged.size >= 100, { timeoutMs: 20_000 });
    const oldLeader = await c.waitForLeader({ timeoutMs: 5_000 });
    await c.killAndWait(oldLeader);
    const killedAt = Date.now();
    const survivors = c.memberIds.filter((id) => id !== oldLeader);
    const newLeader = await c.waitForLeader({ timeoutMs: 20_000, among: survivors });
    expect(newLeader).not.toBe(oldLeader);
    await waitUntil('50 writes acknowledged after the kill', () => load.report().ackTimes.filter((t) => t > killedAt).length >= 50, { timeoutMs: 20_000 });
    const report = await load.stop();
    const { lost, versionsAboveOne } = await findLost(client, 'kill-leader', report.acknowledged);
    expect(lost).toEqual([]);
    expect(versionsAboveOne).toEqual([]);
  });

  it('SIGSTOP two of three: writes and linearizable reads fail fast, none acknowledged; serializable reads answer; SIGCONT resumes', async () => {
    const c = await startCluster();
    const client = await c.client();
    await client.put({ key: 'stop/before', value: encoder.encode('v0') });
    const leader = await c.waitForLeader({ timeoutMs: 5_000 });
    const [live, ...stopped] = [leader, ...c.memberIds.filter((id) => id !== leader)] as [string, ...string[]];
    // Pause the two followers: the leader is left alone and must notice it lost its quorum.
    for (const id of stopped) c.pause(id);
    let acknowledged = 0;
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      try {
        await client.callMember(live, { type: 'write', command: { type: 'put', request: { key: `stop/during/${i}`, value: encoder.encode('x') } }, requestId: null }, 10_000);
        acknowledged++;
      } catch (error) {
        outcomes.push(error instanceof Error ? error.name : String(error));
        expect(error instanceof NoQuorumError || error instanceof OutcomeUnknownError).toBe(true);
        expect(Date.now() - started).toBeLessThanOrEqual(2 * electionTimeoutMs + 500);
      }
      try {
        await client.callMember(live, { type: 'range', request: { key: 'stop/before' }, consistency: 'linearizable' }, 10_000);
        acknowledged++;
      } catch (error) {
        expect(error instanceof NoQuorumError).toBe(true);
        expect(Date.now() - started).toBeLessThanOrEqual(4 * electionTimeoutMs + 1_000);
      }
    }
    expect(acknowledged).toBe(0);
    // Through the client too: it rides out an election but reports a missing majority promptly.
    const started = Date.now();
    const viaClient = await client.put({ key: 'stop/client', value: encoder.encode('x') }).catch((error: unknown) => error);
    expect(viaClient instanceof NoQuorumError || viaClient instanceof OutcomeUnknownError).toBe(true);
    expect(Date.now() - started).toBeLessThanOrEqual(2 * electionTimeoutMs + storeClientLimits.noQuorumGraceMs + 1_000);
    // Once it stepped down, refusals are immediate and say NoQuorum with what is reachable.
    const refusal = await client.callMember(live, { type: 'write', command: { type: 'put', request: { key: 'stop/late', value: encoder.encode('x') } }, requestId: null }, 10_000).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(NoQuorumError);
    expect((refusal as NoQuorumError).total).toBe(3);
    const stale = await client.range({ key: 'stop/before' }, { consistency: 'serializable', member: live });
    expect(new TextDecoder().decode(stale.result.kvs[0]?.value)).toBe('v0');
    // Marked stale, by the member that served it.
    expect(stale.staleness).toMatchObject({ member: live });
    for (const id of stopped) c.resume(id);
    await waitUntil('a write after SIGCONT', async () => (await client.put({ key: 'stop/after', value: encoder.encode('v1') }, { requestId: 'stop-after', timeoutMs: 3_000 }), true), { timeoutMs: 20_000 });
    const after = await client.get('stop/after');
    expect(new TextDecoder().decode(after?.value)).toBe('v1');
    const during = await client.range({ key: 'stop/during/', prefix: true });
    // Writes refused with NoQuorum never apply; OutcomeUnknown ones may. Count them.
    expect(during.result.kvs.length).toBeLessThanOrEqual(outcomes.filter((o) => o === 'OutcomeUnknownError').length);
  });

  it('kill -9 of every member, then restart: every acknowledged write is present', async () => {
    const c = await startCluster();
    const client = await c.client();
    const load = new WriteLoad(client, { writers: 8, prefix: 'kill-all' });
    load.start();
    await waitUntil('300 acknowledged writes', () => load.report().acknowledged.size >= 300, { timeoutMs: 30_000 });
    for (const id of c.memberIds) c.kill(id);
    const report = await load.stop();
    for (const id of c.memberIds) await c.restart(id);
    await c.waitForLeader({ timeoutMs: 30_000 });
    const { lost, versionsAboveOne } = await findLost(client, 'kill-all', report.acknowledged);
    expect(lost).toEqual([]);
    expect(versionsAboveOne).toEqual([]);
  });

  it('kill -9 a member 20 times during load: no acknowledged write lost, nothing applied twice', async () => {
    const c = await startCluster();
    const client = await c.client();
    const load = new WriteLoad(client, { writers: 8, prefix: 'kill-20' });
    load.start();
    for (let round = 0; round < 20; round++) {
      // Alternate: even rounds kill the leader, odd rounds a follower.
      const leader = await c.waitForLeader({ timeoutMs: 20_000 });
      const victim = round % 2 === 0 ? leader : (c.memberIds.find((id) => id !== leader) as string);
      const before = load.report().acknowledged.size;
      await c.killAndWait(victim);
      await c.restart(victim);
      await waitUntil(`writes progressing after kill ${round + 1} (${victim})`, () => load.report().acknowledged.size >= before + 10, { timeoutMs: 20_000 });
    }
    const report = await load.stop();
    await c.waitForLeader({ timeoutMs: 20_000 });
    const { lost, versionsAboveOne } = await findLost(client, 'kill-20', report.acknowledged);
    expect(report.acknowledged.size).toBeGreaterThan(200);
    expect(lost).toEqual([]);
    expect(versionsAboveOne).toEqual([]);
  });
});
