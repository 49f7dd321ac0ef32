/**
 * One simulated run, decided entirely by its seed:
 * 0. topology: one, three or five voters, plus spare members that may join; whether leases are
 *    exercised; the operator's membership plan;
 * 1. safety phase: clients write (with request ids, retried across members) and read (from the
 *    leader and from followers), a watcher follows every key, the operator changes membership and
 *    moves leadership, leases are granted across leader changes, while faults are injected:
 *    crashes and restarts (also in the middle of pending reads, and power cuts inside a disk
 *    write), pauses that hold a member's messages past the clients' deadlines and then deliver
 *    them, symmetric, one-way and non-transitive partitions, drops, duplicates, delays that
 *    reorder. Raft's safety properties are checked after every step;
 * 2. liveness phase: every fault is healed and every member restarted; a write must commit
 *    within a budget, all members of the configuration must converge to the same applied state,
 *    and one operation of each kind must succeed; in seeds with a tiny snapshot byte bound (and no
 *    entry interval), every member's live log must have stayed near that bound;
 * 3. leases: once a leader has been stable for the longest TTL, no lease may remain past its
 *    deadline; the watch must have delivered the applied history without a gap; the recorded
 *    client history must be linearizable, key by key; every operation kind succeeded at least
 *    once; no client saw an error the store should never send; no member process died;
 * 4. liveness probes (liveness-probe.ts): while leadership moves or the leader is cut off on the
 *    healed cluster, reads are answered within a bound and a cut-off leader steps down in time.
 * The trace hash digests everything observable, so "same seed → same trace hash" proves replay.
 */
import { createHash } from 'node:crypto';
import { Prng } from '../../bus/index.js';
import { NoQuorumError, OutcomeUnknownError, StoreClient, type RaftTiming } from '../../store/index.js';
import { requestDedupLimits } from '../../store/request-dedup.js';
import { checkLinearizable, formatHistory } from '../history/index.js';
import { SimCluster } from './sim-cluster.js';
import { SafetyChecker } from './safety-checker.js';
import { Workload, type InjectedBug } from './workload.js';
import { Operator } from './operator.js';
import { LeaseChecker } from './lease-checker.js';
import { WatchChecker } from './watch-checker.js';
import { LivenessProbe } from './liveness-probe.js';

export interface SeedOptions {
  /** Voters of the new cluster; drawn from the seed (1, 3 or 5) when absent. */
  readonly members?: number;
  /** Simulated milliseconds of faults and load. */
  readonly safetyMs: number;
  /** Simulated milliseconds within which a healed cluster must commit a write and converge. */
  readonly livenessBudgetMs: number;
  /** Entries between snapshots; drawn from the seed when absent. */
  readonly snapshotEveryEntries?: number;
  /** A deliberately broken client (tests of the checkers only). */
  readonly bug?: InjectedBug;
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
  readonly plan: string;
  readonly simulatedMs: number;
}

/** 10 ms ticks of simulated time: the same ratios as production timing, ten times faster. */
export const simTiming: RaftTiming = { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 };
const electionTimeoutMs = simTiming.tickMs * simTiming.electionTicks;
const stepMs = 2;
/** Coarser steps once only timers matter (waiting for leases to expire). */
const idleStepMs = 10;
const faultEveryMs = 150;
/** The latest a fault's own timer fires after the fault (a pause's resume, at most 1.5 s). */
const faultTimersMaxMs = 1_500;
const leaseObserveEverySteps = 10;
/** After a restart amid reads, the member is sent reads for this long. */
const restartReadsForMs = 60;
/**
 * A healed cluster's watch delivers what was applied within this: a watch being re-created may
 * first wait out StoreWatch's 3 s create deadline on a member that vanished, once per member.
 */
const watchCatchUpMs = 12_000;
/** Keys the workload uses share this prefix; the watcher follows it. */
const keyPrefix = 'k';

/**
 * The request dedup window scaled as production's: three times the clients' whole-call deadline
 * (2 s here, 10 s there), so results are evicted by time within a seed while retries, which end
 * by their deadline, must still find theirs; bytes as in production.
 */
export const simDedupLimits = { retryWindowMs: 6_000, bytesMax: requestDedupLimits.bytesMax } as const;

export const defaultSeedOptions: SeedOptions = { safetyMs: 4_000, livenessBudgetMs: 3_000 };

interface Topology {
  readonly voters: number;
  readonly spares: number;
  readonly leases: boolean;
  /** Entries between snapshots: often small, so lagging members get snapshots while entries still arrive. */
  readonly snapshotEveryEntries: number;
  /**
   * Applied data bytes between snapshots, in some seeds: tiny, with an entry interval never
   * reached, so only the byte bound compacts the log (checked after healing).
   */
  readonly snapshotEveryBytes?: number;
}

export const logBytesLimits = {
  /** Seeds with a byte bound: about one in five. */
  chance: 0.2,
  /** The tiny bound: a few dozen of the workload's entries. */
  snapshotEveryBytes: 1_024,
  /** An entry interval no seed reaches. */
  snapshotEveryEntries: 1_000_000,
  /**
   * What a live log may hold: the bound, plus what one Ready applies past it before the driver
   * snapshots (a handful of small entries in the simulation).
   */
  liveLogBytesMax: 2 * 1_024,
} as const;

/** The seed's topology, from its own generator so that adding a fault elsewhere does not change it. */
export function topologyOf(seed: number, members?: number): Topology {
  const random = new Prng(seed * 2 + 1);
  const roll = random.int(10);
  const voters = members ?? (roll < 3 ? 1 : roll < 8 ? 3 : 5);
  const leases = random.chance(0.5);
  const snapshotEveryEntries = random.pick([8, 16, 64]);
  const spares = voters === 1 ? 3 : 2;
  if (random.chance(logBytesLimits.chance)) return { voters, spares, leases, snapshotEveryEntries: logBytesLimits.snapshotEveryEntries, snapshotEveryBytes: logBytesLimits.snapshotEveryBytes };
  return { voters, spares, leases, snapshotEveryEntries };
}

export async function runSeed(seed: number, options: SeedOptions = defaultSeedOptions): Promise<SeedResult> {
  const topology = topologyOf(seed, options.members);
  const cluster = new SimCluster({ seed, members: topology.voters, spares: topology.spares, timing: simTiming, snapshotEveryEntries: options.snapshotEveryEntries ?? topology.snapshotEveryEntries,
    ...(topology.snapshotEveryBytes !== undefined ? { snapshotEveryBytes: topology.snapshotEveryBytes } : {}),
    dedupLimits: simDedupLimits,
  });
  const checker = new SafetyChecker(cluster);
  const faultRandom = cluster.random.fork();
  const workload = new Workload({
    clients: 3, keys: 4, cluster: cluster.cluster, members: cluster.memberIds, clock: cluster.clock,
    random: cluster.random.fork(), connect: (name) => cluster.network.connect(name), thinkMs: { min: 0, max: 20 },
    readTargets: () => cluster.active().filter((id) => cluster.isUp(id)),
    ...(options.bug !== undefined ? { bug: options.bug } : {}),
  });
  const operator = new Operator(cluster, cluster.random.fork());
  const leases = new LeaseChecker(cluster, cluster.random.fork(), electionTimeoutMs, topology.leases);
  const watcher = new WatchChecker(cluster, cluster.random.fork(), keyPrefix);
  const leaseRandom = cluster.random.fork();
  const leaseGrantsAtMs = topology.leases ? [leaseRandom.between(200, 1_500), leaseRandom.between(1_500, 3_000)] : [];
  let faults = 0;
  let failure: string | null = null;
  try {
    await cluster.startAll();
    workload.start();
    operator.start();
    watcher.start();
    let nextFaultMs = faultEveryMs;
    let steps = 0;
    await cluster.run(options.safetyMs, stepMs, () => {
      // Leases live for seconds: looking every few steps sees each one.
      if (topology.leases && ++steps % leaseObserveEverySteps === 0) leases.observe();
      while (leaseGrantsAtMs.length > 0 && cluster.clock.now() >= (leaseGrantsAtMs[0] as number)) {
        leaseGrantsAtMs.shift();
        leases.grant(leaseRandom.chance(0.5));
      }
      if (cluster.clock.now() >= nextFaultMs) {
        nextFaultMs += faultEveryMs;
        faults += injectFault(cluster, workload, operator, faultRandom);
      }
    });
    checker.checkLogMatching();
    workload.stop();
    operator.stop();
    failure = await livenessPhase(cluster, operator, options);
    checker.checkLogMatching();
    if (failure === null && topology.snapshotEveryBytes !== undefined) failure = checkLiveLogBytes(cluster);
    if (failure === null) failure = await everyKindPhase(cluster, workload, leases, watcher);
    if (failure === null) failure = await new LivenessProbe(cluster, cluster.random.fork()).run(stepMs, options.safetyMs + faultTimersMaxMs);
    if (failure === null && topology.leases) failure = await leasePhase(cluster, leases);
    watcher.stop();
    if (failure === null) watcher.check();
    failure ??= verdicts(cluster, workload, operator, leases, watcher, topology);
  } catch (error) {
    failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    watcher.stop();
    cluster.stopAll();
  }
  if (failure !== null && cluster.problems.length > 0 && !failure.includes(cluster.problems[0] as string)) failure += `\nmember problems: ${cluster.problems.join('; ')}`;
  return {
    seed, members: topology.voters, ok: failure === null, traceHash: traceHash(cluster, workload), failure,
    operations: workload.completed, succeeded: workload.succeeded, faults, plan: operator.plan, simulatedMs: cluster.clock.now(),
  };
}

/** Everything checked once the run is over, in order of how much it says. */
function verdicts(cluster: SimCluster, workload: Workload, operator: Operator, leases: LeaseChecker, watcher: WatchChecker, topology: Topology): string | null {
  if (cluster.problems.length > 0) return `member problems: ${cluster.problems.join('; ')}`;
  const verdict = checkLinearizable(workload.history.operations(), { timeBudgetMs: 10_000, now: () => performance.now() });
  if (verdict.verdict === 'violation') return `not linearizable on key ${verdict.key}:\n${verdict.explanation}\n${formatHistory(workload.history.operations(), verdict.key)}`;
  if (verdict.verdict === 'undecided') return `linearizability check undecided in its time budget on key ${verdict.key}`;
  const twice = watcher.appliedTwice();
  if (twice !== null) return twice;
  if (workload.staleReads.length > 0) return `stale linearizable reads: ${workload.staleReads.join(' | ')}`;
  if (workload.unexpectedCount > 0) return `${workload.unexpectedCount} unexpected client errors, first: ${workload.unexpected.join(' | ')}`;
  const unexpected = [...operator.unexpected, ...leases.unexpected];
  if (unexpected.length > 0) return `unexpected errors: ${unexpected.join(' | ')}`;
  const missing = workload.missingKinds();
  if (missing.length > 0) return `no ${missing.join(', ')} succeeded in the whole seed`;
  if (watcher.delivered === 0) return 'the watch delivered nothing in the whole seed';
  if (topology.leases && leases.seenCount() === 0) return 'no lease was granted in the whole seed';
  return null;
}


/** One fault (or a repair), chosen by the seed. Returns 1 when it broke something. */
function injectFault(cluster: SimCluster, workload: Workload, operator: Operator, random: Prng): number {
  const ids = cluster.active();
  if (ids.length === 0) return 0;
  const roll = random.int(15);
  const down = ids.filter((id) => !cluster.isUp(id));
  const clock = cluster.clock;
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
  if (roll < 6 && ids.length > 1) {
    const shuffled = random.shuffle(ids);
    const cut = random.between(1, ids.length - 1);
    cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    return 1;
  }
  if (roll < 7 && ids.length > 1) {
    const from = random.pick(ids);
    const to = random.pick(ids.filter((id) => id !== from));
    cluster.network.blockOneWay(from, to);
    return 1;
  }
  if (roll < 8 && ids.length > 2) {
    // Non-transitive: a and c cannot talk, both still reach b.
    const [a, , c] = random.shuffle(ids);
    if (a !== undefined && c !== undefined) {
      cluster.network.blockOneWay(a, c);
      cluster.network.blockOneWay(c, a);
    }
    return 1;
  }
  if (roll < 10) {
    // A stall past the clients' 1 s attempt deadline; what was held is then delivered late.
    const id = random.chance(0.5) ? cluster.leader() ?? random.pick(ids) : random.pick(ids);
    cluster.network.pause(id);
    clock.setTimeout(() => cluster.network.resume(id), random.between(300, 1_500));
    return 1;
  }
  if (roll < 11) {
    restartAmidReads(cluster, workload, random, ids);
    return 1;
  }
  if (roll < 12) {
    // Power cut inside the next durable write: of the leader, whose appends may already be out.
    const id = random.chance(0.7) ? cluster.leader() ?? random.pick(ids) : random.pick(ids);
    cluster.disk(id).cutPowerOnNextDurableWrite();
    clock.setTimeout(() => cluster.start(id), random.between(1, 50));
    return 1;
  }
  if (roll < 13) {
    // A full disk: writes that add data are refused (StorageFull) while reads, deletes and Raft go
    // on; later the room comes back and the operator disarms the alarm.
    const id = random.pick(ids);
    cluster.disk(id).fill();
    clock.setTimeout(() => {
      cluster.disk(id).unfill();
      void operator.disarmAlarms();
    }, random.between(200, 1_200));
    return 1;
  }
  cluster.network.setFaults({
    dropRate: random.float() * 0.2,
    duplicateRate: random.float() * 0.1,
    delayMs: { min: 1, max: random.between(2, 25) },
  });
  return 1;
}

/**
 * A restart while reads are pending: follower reads sent to a member, which crashes and comes
 * back and is sent reads again and again while it rejoins. Half the time at a quorum's edge: the
 * member was just restarted (so its reads count from 1 again), every other follower is stalled
 * for a while, and the leader keeps the old process's reads pending until the new process
 * answers a heartbeat, while the new process already reads again. The other half, the member's
 * own link stalls across the restart.
 */
function restartAmidReads(cluster: SimCluster, workload: Workload, random: Prng, ids: readonly string[]): void {
  const leader = cluster.leader();
  const voters = cluster.conf()?.voters ?? [];
  const followers = voters.filter((member) => member !== leader && ids.includes(member));
  const id = random.pick(followers.length > 0 ? followers : ids);
  if (leader !== null && followers.length > 0 && random.chance(0.5)) {
    cluster.restart(id);
    cluster.clock.setTimeout(() => {
      // Leave the leader exactly a quorum with `id` in it.
      const quorum = Math.floor(voters.length / 2) + 1;
      const others = random.shuffle(followers.filter((member) => member !== id)).slice(0, voters.length - quorum);
      for (const other of others) cluster.network.pause(other);
      cluster.clock.setTimeout(() => others.forEach((other) => cluster.network.resume(other)), random.between(100, 400));
      crashAmidReads(cluster, workload, random, id, false);
    }, random.between(30, 80));
    return;
  }
  crashAmidReads(cluster, workload, random, id, random.chance(0.5));
}

function crashAmidReads(cluster: SimCluster, workload: Workload, random: Prng, id: string, stall: boolean): void {
  const clock = cluster.clock;
  workload.readBurst(id);
  clock.setTimeout(() => {
    if (stall) cluster.network.pause(id);
    cluster.crash(id);
    clock.setTimeout(() => {
      cluster.start(id);
      if (stall) clock.setTimeout(() => cluster.network.resume(id), random.between(5, 300));
      // Reads keep coming while the new process learns its leader and catches up.
      for (let at = 1; at <= restartReadsForMs; at += random.between(2, 6)) clock.setTimeout(() => workload.readBurst(id), at);
    }, random.between(1, 30));
  }, random.between(1, 5));
}

async function livenessPhase(cluster: SimCluster, operator: Operator, options: SeedOptions): Promise<string | null> {
  cluster.network.heal();
  cluster.network.resumeAll();
  cluster.network.setFaults({ dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 3 } });
  cluster.healAndStartAll();
  const client = new StoreClient({
    bus: cluster.network.connect('liveness'), cluster: cluster.cluster, members: cluster.memberIds,
    clock: cluster.clock, random: cluster.random.fork(), callTimeoutMs: options.livenessBudgetMs, attemptTimeoutMs: 500,
  });
  let committed = false;
  let lastError = '';
  const deadline = cluster.clock.now() + options.livenessBudgetMs;
  // Disks have room again: an alarm still raised is disarmed, as an operator would.
  let disarmed = false;
  void operator.disarmAlarms().finally(() => {
    disarmed = true;
  });
  while (!disarmed && cluster.clock.now() < deadline) await cluster.run(20, stepMs, () => cluster.healAndStartAll());
  // A member that hears no majority says so at once (NoQuorum); like any client, the probe asks
  // again until its budget is spent, since just after healing members may not have heard each other.
  let probeId = 1;
  const probe = (async () => {
    while (cluster.clock.now() < deadline) {
      try {
        await client.put({ key: 'liveness', value: new TextEncoder().encode('probe') }, { requestId: `liveness-probe-${probeId}`, timeoutMs: Math.max(1, deadline - cluster.clock.now()) });
        committed = true;
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        // An alarm raised before the disks had room again may apply after the first disarm.
        if ((error as { code?: unknown }).code === 'storageFull') {
          // Refused for good under that request id (the refusal is remembered): a new id is a new write.
          probeId++;
          await operator.disarmAlarms();
          continue;
        }
        // The probe carries a request id, so asking again after an unknown outcome is safe.
        if (!(error instanceof NoQuorumError || error instanceof OutcomeUnknownError)) return;
        await new Promise<void>((resolve) => cluster.clock.setTimeout(resolve, 50));
      }
    }
  })();
  // Restart timers of faults may still be due: whoever went down is started again at once.
  const heal = (): void => cluster.healAndStartAll();
  while (!committed && cluster.clock.now() < deadline) await cluster.run(20, stepMs, heal);
  if (!committed) {
    await cluster.run(50, stepMs);
    void probe;
    return `liveness: no write committed within ${options.livenessBudgetMs} ms after healing (${lastError || 'no answer'}); states: ${cluster.active().map((id) => `${id}=${cluster.state(id)}`).join(' ')}`;
  }
  // Convergence: every member of the configuration applies the same index and holds the same state.
  const members = (): string[] => {
    const conf = cluster.conf();
    return conf === null ? cluster.active() : [...conf.voters, ...conf.learners];
  };
  while (cluster.clock.now() < deadline + options.livenessBudgetMs) {
    const views = members().map((id) => cluster.driver(id)).map((driver) => driver && { applied: driver.raftStatus().applied, hash: driver.mvcc.hash() });
    if (views.every((view) => view !== null && view.applied === views[0]?.applied && view.hash === views[0]?.hash)) return null;
    await cluster.run(20, stepMs, heal);
  }
  const views = members().map((id) => `${id}:${cluster.driver(id)?.raftStatus().applied ?? 'down'}`);
  return `liveness: members did not converge to one applied state after healing (${views.join(' ')})`;
}

/** With a byte bound on snapshots, every member's live log stays near it (nothing else compacts). */
function checkLiveLogBytes(cluster: SimCluster): string | null {
  const conf = cluster.conf();
  const members = conf === null ? cluster.active() : [...conf.voters, ...conf.learners];
  return liveLogVerdict(members.map((id) => ({ id, bytes: cluster.liveLogBytes(id) })));
}

/** The members whose live log outgrew `logBytesLimits.liveLogBytesMax`, described; null when none did. */
export function liveLogVerdict(views: readonly { readonly id: string; readonly bytes: number }[]): string | null {
  const over = views.filter((view) => view.bytes > logBytesLimits.liveLogBytesMax);
  if (over.length === 0) return null;
  return `log bytes: a snapshot is due every ${logBytesLimits.snapshotEveryBytes} applied bytes, yet the live log holds ${over.map((view) => `${view.id}: ${view.bytes} bytes`).join(', ')} (bound ${logBytesLimits.liveLogBytesMax})`;
}

/** After healing, one operation of each kind, so that a kind that never works cannot hide behind faults. */
async function everyKindPhase(cluster: SimCluster, workload: Workload, leases: LeaseChecker, watcher: WatchChecker): Promise<string | null> {
  const conf = cluster.conf();
  const members = conf === null ? cluster.active() : [...conf.voters, ...conf.learners];
  watcher.reopen(members);
  let done = false;
  void (async () => {
    await workload.oneOfEach(members);
    if (leases.enabled) await leases.grantAndWait();
  })().finally(() => {
    done = true;
  });
  // Each call is bounded by the client's own deadline; this bound only stops a hung promise.
  const deadline = cluster.clock.now() + 30_000;
  while (!done && cluster.clock.now() < deadline) {
    await cluster.run(20, stepMs);
    leases.observe();
  }
  if (!done) return 'the operations after healing did not finish within 30 s';
  // The watch then catches up with everything applied.
  const watchDeadline = cluster.clock.now() + watchCatchUpMs;
  while (!watcher.caughtUp() && cluster.clock.now() < watchDeadline) await cluster.run(20, stepMs);
  return watcher.caughtUp() ? null : `the watch did not catch up with the applied history within ${watchCatchUpMs} ms after healing`;
}

/** Waits (bounded) until every lease must have expired, then looks for orphans. */
async function leasePhase(cluster: SimCluster, leases: LeaseChecker): Promise<string | null> {
  const until = Math.min(leases.settledByMs(), cluster.clock.now() + 3 * 2_500) + 50;
  while (cluster.clock.now() < until) {
    await cluster.run(idleStepMs * 10, idleStepMs);
    leases.observe();
    const held = heldLeases(cluster);
    if (held.length === 0) return null;
  }
  leases.checkNoOrphans(heldLeases(cluster));
  return null;
}

function heldLeases(cluster: SimCluster): readonly { id: number }[] {
  const leader = cluster.leader();
  const driver = leader === null ? null : cluster.driver(leader);
  return driver?.mvcc.leases() ?? [];
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
