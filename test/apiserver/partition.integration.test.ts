/**
 * Partitions answered at once, on a real 3-member cluster whose members serve the API: two
 * members are paused with SIGSTOP while clients write through the third. A paused member is what
 * a network partition looks like: NATS keeps delivering to its subscriptions and nobody answers,
 * so there is no fast "no responders" as after a kill (quorum.integration.test.ts).
 *
 * Proves: the first writes after the loss are answered within 2 s; from one election timeout
 * after the loss on, the surviving member knows it has no leader and hears no majority, and every
 * write is answered 503 without being sent anywhere, within 100 ms (see `lateShareMax` for the
 * machine's share of late answers); after SIGCONT writes resume,
 * no 503'd write ever appears, and every acknowledged one is there. Run twice: with the serving
 * member a follower (its cached leader is among the paused) and with it the leader (it steps
 * down by check-quorum). Only the processes this suite started are paused, always resumed in a
 * `finally`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRaftTiming } from '../../store/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';
import { timedCreate, type WriteOutcome } from './timed-create.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

/**
 * One election timeout, taken at the top of its randomized range (electionTicks to 2 x
 * electionTicks ticks, the LocalCluster defaults): by then a follower has given up on its leader
 * and a leader without a majority has stepped down.
 */
const electionTimeoutMs = 2 * defaultRaftTiming.electionTicks * defaultRaftTiming.tickMs;
/** How long the majority stays paused: several election timeouts, so many writes fall after one. */
const partitionMs = 4_000;
/** Writers in a loop, each at most one write per `writerPaceMs` (503s come back at once). */
const writersCount = 3;
const writerPaceMs = 50;
/**
 * Besides the writers, a probe write starts every `probeIntervalMs` during the loss without
 * waiting for earlier ones, so writes start at every moment, right after one election timeout too
 * (the writers may all be waiting out a write sent before the loss then).
 */
const probeIntervalMs = 50;
/** From one election timeout on, a write is refused within this. */
const refusedWithinMs = 100;
/**
 * A process on a shared 2-core machine is sometimes descheduled for 100 ms or more (seen at a
 * load average of 15: one answer in 200 at 110-270 ms, the median at 6-10 ms, with this test's
 * own event loop late by up to 55 ms). So at most 1% of the answers may come later,
 * none after `lateMaxMs`: still far from the 1.5 s a write sent to a paused member waits.
 */
const lateShareMax = 0.01;
const lateMaxMs = 500;

describe.runIf(runs)('API under a partition (SIGSTOP of 2 of 3 members)', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness();
  });

  afterAll(async () => {
    await h?.stop();
  });

  const create = (name: string): Promise<WriteOutcome> => timedCreate(h, name);

  /** Moves leadership to `to` (or away from `from`) and waits until every member agrees. */
  const placeLeader = async (wanted: (leader: string) => boolean, to: string): Promise<void> => {
    const store = await h.cluster.client();
    await waitUntil(`a leader placed for the round (${to})`, async () => {
      const leader = await h.cluster.waitForLeader({ timeoutMs: 10_000 });
      if (wanted(leader)) return true;
      await store.transferLeadership(to, { timeoutMs: 2_000 }).catch(() => undefined);
      return false;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  };

  const partitionRound = async (label: string, serving: string, paused: readonly string[]): Promise<void> => {
    const outcomes: WriteOutcome[] = [];
    let running = true;
    let sequence = 0;
    const writers = Array.from({ length: writersCount }, async () => {
      while (running) {
        const outcome = await create(`${label}-${sequence++}`);
        outcomes.push(outcome);
        const paceMs = outcome.startedMs + writerPaceMs - Date.now();
        if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
      }
    });
    const probes: Promise<void>[] = [];
    // This process's own event-loop delay is part of every measured answer: reported with the figures.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let probeTimer: NodeJS.Timeout | undefined;
    let lostMs = 0;
    let resumedMs = 0;
    try {
      await waitUntil('writes flowing', () => outcomes.filter((o) => o.status === 201).length >= 10, { timeoutMs: 20_000 });
      lostMs = Date.now();
      loopDelay.enable();
      for (const id of paused) h.cluster.pause(id);
      probeTimer = setInterval(() => {
        probes.push(create(`${label}-p${probes.length}`).then((outcome) => { outcomes.push(outcome); }));
      }, probeIntervalMs);
      await waitUntil('writes during the partition', () => Date.now() - lostMs >= partitionMs, { timeoutMs: 30_000 });
    } finally {
      clearInterval(probeTimer);
      loopDelay.disable();
      resumedMs = Date.now();
      for (const id of paused) h.cluster.resume(id);
      running = false;
    }
    await Promise.all([...writers, ...probes]);

    // Writes resume after the heal.
    const after = await waitUntil('a write after SIGCONT', async () => {
      const outcome = await create(`${label}-after`);
      return [201, 409].includes(outcome.status) ? outcome : null;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const resumedAfterMs = after.endedMs - resumedMs;

    // A write started within its answer bound of SIGCONT may meet the healed cluster.
    const duringLoss = outcomes.filter((o) => o.endedMs > lostMs && o.startedMs < resumedMs - refusedWithinMs);
    const firstAnswerMs = Math.max(...duringLoss.filter((o) => o.startedMs <= lostMs).map((o) => o.endedMs - lostMs), 0);
    // Enough writes after one election timeout to mean something (about 60 probes alone).
    const settledMin = Math.floor((partitionMs - electionTimeoutMs) / probeIntervalMs / 2);
    const slowest = Math.max(...duringLoss.map((o) => o.endedMs - Math.max(o.startedMs, lostMs)));
    const settled = duringLoss.filter((o) => o.startedMs >= lostMs + electionTimeoutMs);
    const settledMs = settled.map((o) => o.endedMs - o.startedMs).sort((x, y) => x - y);
    const settledSlowest = settledMs.at(-1) ?? 0;
    const settledP50 = settledMs[Math.floor(settledMs.length / 2)] ?? 0;
    const late = settled.filter((o) => o.endedMs - o.startedMs >= refusedWithinMs);
    const refusedAt = duringLoss.filter((o) => o.status === 503).map((o) => o.startedMs - lostMs);
    console.info(`partition (${label}, serving ${serving}): ${duringLoss.length} writes during the loss; in flight at the loss answered within ${firstAnswerMs} ms; `
      + `slowest answer ${slowest} ms; first 503 started ${Math.min(...refusedAt)} ms after the loss; `
      + `${settled.length} writes from ${electionTimeoutMs} ms on, median ${settledP50} ms, slowest ${settledSlowest} ms, ${late.length} at ${refusedWithinMs} ms or more; writes resumed ${resumedAfterMs} ms after SIGCONT; `
      + `this test process's event loop was late by up to ${Math.round(loopDelay.max / 1e6)} ms`);

    for (const outcome of duringLoss) {
      const what = `${outcome.name} (started ${outcome.startedMs - lostMs} ms after the loss): ${outcome.status} ${outcome.message}`;
      expect([201, 503, 504], what).toContain(outcome.status);
      expect(outcome.endedMs - Math.max(outcome.startedMs, lostMs), what).toBeLessThan(2_000);
      if (outcome.status === 503) expect(outcome.message, what).toMatch(/not applied/);
      if (outcome.status === 504) expect(outcome.message, what).toMatch(/may or may not have been applied/);
    }
    expect(settled.length).toBeGreaterThanOrEqual(settledMin);
    for (const outcome of settled) {
      const what = `${outcome.name} (started ${outcome.startedMs - lostMs} ms after the loss): ${outcome.status} ${outcome.message}`;
      expect(outcome.status, what).toBe(503);
      expect(outcome.message, what).toMatch(/no quorum: 1 of 3 members reachable; the write was not applied/);
      expect(outcome.endedMs - outcome.startedMs, what).toBeLessThan(lateMaxMs);
    }
    expect(late.length, late.map((o) => `${o.name}: ${o.endedMs - o.startedMs} ms`).join(', ')).toBeLessThanOrEqual(Math.floor(settled.length * lateShareMax));

    // After the heal, a linearizable list: no refused write ever applied, every acknowledged one did.
    const list = await h.request('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.status, list.body).toBe(200);
    const names = new Set((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name));
    expect(names.has(`${label}-after`)).toBe(true);
    expect(outcomes.filter((o) => o.status === 503 && names.has(o.name)).map((o) => o.name)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 201 && !names.has(o.name)).map((o) => o.name)).toEqual([]);
    for (const id of h.cluster.memberIds) await h.waitReady(id);
  };

  it('answers writes 503 at once once the survivor knows it has no leader and no majority (survivor was a follower)', async () => {
    const [serving, second, third] = h.cluster.memberIds as [string, string, string];
    await placeLeader((leader) => leader !== serving, second);
    await partitionRound('follower', serving, [second, third]);
  });

  it('answers writes 503 at once once the survivor knows it has no leader and no majority (survivor was the leader)', async () => {
    const [serving, second, third] = h.cluster.memberIds as [string, string, string];
    await placeLeader((leader) => leader === serving, serving);
    await partitionRound('leader', serving, [second, third]);
  });
});
