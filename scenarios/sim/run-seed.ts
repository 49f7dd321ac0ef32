/**
 * One simulated run, decided entirely by its seed:
 * 1. safety phase: clients write and read while faults are injected (crashes and restarts,
 *    symmetric, one-way and non-transitive partitions, drops, duplicates, delays that reorder);
 *    Raft's safety properties are checked after every step;
 * 2. liveness phase: every fault is healed and every member restarted; a write must commit
 *    within a tick budget and all members must converge to the same applied state;
 * 3. the recorded client history must be linearizable, key by key.
 * The trace hash digests everything observable, so "same seed → same trace hash" proves replay.
 */
import { createHash } from 'node:crypto';
import type { Prng } from '../../bus/index.js';
import { NoQuorumError, OutcomeUnknownError, StoreClient, type RaftTiming } from '../../store/index.js';
import { checkLinearizable, formatHistory } from '../history/index.js';
import { SimCluster } from './sim-cluster.js';
import { SafetyChecker } from './safety-checker.js';
import { Workload } from './workload.js';

export interface SeedOptions {
  readonly members: number;
  /** Simulated milliseconds of faults and load. */
  readonly safetyMs: number;
  /** Simulated milliseconds within which a healed cluster must commit a write and converge. */
  readonly livenessBudgetMs: number;
  readonly snapshotEveryEntries: number;
}

export interface SeedResult {
  readonly seed: number;
  readonly members: number;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly failure: string | null;
  readonly operations: number;
  readonly succeeded: number;
  readonly faults: number;
}

/** 10 ms ticks of simulated time: the same ratios as production timing, ten times faster. */
const simTiming: RaftTiming = { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 };
const stepMs = 2;
const faultEveryMs = 150;

export const defaultSeedOptions: SeedOptions = { members: 3, safetyMs: 4_000, livenessBudgetMs: 3_000, snapshotEveryEntries: 64 };

export async function runSeed(seed: number, options: SeedOptions = defaultSeedOptions): Promise<SeedResult> {
  const cluster = new SimCluster({ seed, members: options.members, timing: simTiming, snapshotEveryEntries: options.snapshotEveryEntries });
  const checker = new SafetyChecker(cluster);
  const faultRandom = cluster.random.fork();
  const workload = new Workload({
    clients: 3, keys: 4, cluster: cluster.cluster, members: cluster.memberIds, clock: cluster.clock,
    random: cluster.random.fork(), connect: (name) => cluster.network.connect(name), thinkMs: { min: 0, max: 20 },
  });
  let faults = 0;
  let failure: string | null = null;
  try {
    await cluster.startAll();
    workload.start();
    let nextFaultMs = faultEveryMs;
    await cluster.run(options.safetyMs, stepMs, () => {
      if (cluster.clock.now() >= nextFaultMs) {
        nextFaultMs += faultEveryMs;
        faults += injectFault(cluster, faultRandom);
      }
    });
    checker.checkLogMatching();
    workload.stop();
    failure = await livenessPhase(cluster, options);
    checker.checkLogMatching();
    if (failure === null) {
      const verdict = checkLinearizable(workload.history.operations(), { timeBudgetMs: 10_000, now: () => performance.now() });
      if (verdict.verdict === 'violation') failure = `not linearizable on key ${verdict.key}:\n${verdict.explanation}\n${formatHistory(workload.history.operations(), verdict.key)}`;
      if (verdict.verdict === 'undecided') failure = `linearizability check undecided in its time budget on key ${verdict.key}`;
    }
  } catch (error) {
    failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    cluster.stopAll();
  }
  return {
    seed, members: options.members, ok: failure === null, traceHash: traceHash(cluster, workload), failure,
    operations: workload.completed, succeeded: workload.succeeded, faults,
  };
}

/** One fault (or a repair), chosen by the seed. Returns 1 when it broke something. */
/** Fisher–Yates on the seeded generator: a comparator-based shuffle would depend on the engine's sort. */
function shuffle<T>(items: readonly T[], random: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function injectFault(cluster: SimCluster, random: Prng): number {
  const ids = cluster.memberIds;
  const roll = random.int(10);
  const down = ids.filter((id) => !cluster.isUp(id));
  if (roll < 2 && down.length > 0) {
    cluster.start(random.pick(down));
    return 0;
  }
  if (roll < 4) {
    cluster.network.heal();
    cluster.network.setFaults({ dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 3 } });
    return 0;
  }
  if (roll < 5) {
    cluster.crash(random.pick(ids));
    return 1;
  }
  if (roll < 6) {
    const shuffled = shuffle(ids, random);
    const cut = random.between(1, ids.length - 1);
    cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    return 1;
  }
  if (roll < 7) {
    const from = random.pick(ids);
    const to = random.pick(ids.filter((id) => id !== from));
    cluster.network.blockOneWay(from, to);
    return 1;
  }
  if (roll < 8) {
    // Non-transitive: a and c cannot talk, both still reach b.
    const [a, b, c] = shuffle(ids, random);
    if (a !== undefined && c !== undefined && b !== undefined) {
      cluster.network.blockOneWay(a, c);
      cluster.network.blockOneWay(c, a);
    }
    return 1;
  }
  cluster.network.setFaults({
    dropRate: random.float() * 0.2,
    duplicateRate: random.float() * 0.1,
    delayMs: { min: 1, max: random.between(2, 25) },
  });
  return 1;
}

async function livenessPhase(cluster: SimCluster, options: SeedOptions): Promise<string | null> {
  cluster.network.heal();
  cluster.network.setFaults({ dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 3 } });
  for (const id of cluster.memberIds) cluster.start(id);
  const client = new StoreClient({
    bus: cluster.network.connect('liveness'), cluster: cluster.cluster, members: cluster.memberIds,
    clock: cluster.clock, random: cluster.random.fork(), callTimeoutMs: options.livenessBudgetMs, attemptTimeoutMs: 500,
  });
  let committed = false;
  let lastError = '';
  const deadline = cluster.clock.now() + options.livenessBudgetMs;
  // A member that hears no majority says so at once (NoQuorum); like any client, the probe asks
  // again until its budget is spent, since just after healing members may not have heard each other.
  const probe = (async () => {
    while (cluster.clock.now() < deadline) {
      try {
        await client.put({ key: 'liveness', value: new TextEncoder().encode('probe') }, { requestId: 'liveness-probe', timeoutMs: Math.max(1, deadline - cluster.clock.now()) });
        committed = true;
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        // The probe carries a request id, so asking again after an unknown outcome is safe.
        if (!(error instanceof NoQuorumError || error instanceof OutcomeUnknownError)) return;
        await new Promise<void>((resolve) => cluster.clock.setTimeout(resolve, 50));
      }
    }
  })();
  while (!committed && cluster.clock.now() < deadline) await cluster.run(20, stepMs);
  if (!committed) {
    await cluster.run(50, stepMs);
    void probe;
    return `liveness: no write committed within ${options.livenessBudgetMs} ms after healing (${lastError || 'no answer'}); states: ${cluster.memberIds.map((id) => `${id}=${cluster.state(id)}`).join(' ')}`;
  }
  // Convergence: every member applies the same index and holds the same state.
  while (cluster.clock.now() < deadline + options.livenessBudgetMs) {
    const views = cluster.memberIds.map((id) => cluster.driver(id)).map((driver) => driver && { applied: driver.raftStatus().applied, hash: driver.mvcc.hash() });
    if (views.every((view) => view !== null && view.applied === views[0]?.applied && view.hash === views[0]?.hash)) return null;
    await cluster.run(20, stepMs);
  }
  const views = cluster.memberIds.map((id) => `${id}:${cluster.driver(id)?.raftStatus().applied ?? 'down'}`);
  return `liveness: members did not converge to one applied state after healing (${views.join(' ')})`;
}

function traceHash(cluster: SimCluster, workload: Workload): string {
  const hash = createHash('sha256');
  for (const op of workload.history.operations()) hash.update(JSON.stringify(op));
  for (const id of cluster.memberIds) {
    const driver = cluster.driver(id);
    hash.update(`${id}:${driver?.raftStatus().applied ?? -1}:${driver?.raftStatus().term ?? -1}:${driver?.mvcc.hash() ?? ''}`);
  }
  hash.update(String(cluster.clock.now()));
  return hash.digest('hex').slice(0, 16);
}
