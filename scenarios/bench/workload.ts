/**
 * The benchmark's workload, the same for every system: puts of 256-byte values over 10,000 keys
 * at a given concurrency, linearizable reads, and leader failover. A `BenchTarget` adapts a system.
 * Each throughput row also samples the CPU the system's processes spent (process-cpu.ts), and the
 * benchmark process's own (`client`: the load generator and the system's client library).
 */
import { cpuDelta, sampleCpu, type CpuGroups } from './process-cpu.js';

export interface BenchTarget {
  readonly name: string;
  put(key: string, value: Uint8Array): Promise<void>;
  /** A put that is safe to retry after an unknown outcome (the failover rounds retry until one succeeds). */
  putRetrySafe(key: string, value: Uint8Array): Promise<void>;
  /** A linearizable read. */
  get(key: string): Promise<void>;
  /** Its leader-election settings in words, printed beside the failover row (they bound that figure). */
  readonly election: string;
  /** The system's processes by group (`members`, and for kubus `nats`), as they are now. */
  cpuGroups(): CpuGroups;
  /** Kills the current leader with SIGKILL; resolves when it is dead. */
  killLeader(): Promise<void>;
  /** Restarts what killLeader killed and waits until it is back in the cluster. */
  restartKilled(): Promise<void>;
  stop(): Promise<void>;
}

export interface Row {
  readonly system: string;
  readonly test: string;
  readonly clients: number;
  readonly opsPerSecond: number;
  /** Successful operations over the row (the CPU figures divide by it). */
  readonly operations: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly errors: number;
  /** CPU seconds over the row per process group, plus `client` (this process); sums over the group's pids. */
  readonly cpuSeconds: Readonly<Record<string, number>>;
}

/** The rows a run can hold, by name (`--rows`), in the order they run. */
export const rowSpecs = [
  { id: 'put1', test: 'put', clients: 1 },
  { id: 'put16', test: 'put', clients: 16 },
  { id: 'put256', test: 'put', clients: 256 },
  { id: 'get16', test: 'get', clients: 16 },
] as const;
export type ThroughputRowId = (typeof rowSpecs)[number]['id'];
export type RowId = ThroughputRowId | 'failover';
export const rowIds: readonly RowId[] = [...rowSpecs.map((spec) => spec.id), 'failover'];

export interface FailoverResult {
  readonly system: string;
  readonly election: string;
  readonly medianMs: number;
  readonly roundsMs: number[];
}

export const benchLimits = {
  keys: 10_000,
  valueBytes: 256,
  /** Each throughput row runs this long: long enough for a stable rate on a 2-core machine. */
  rowMs: 5_000,
  failoverRounds: 5,
  /**
   * After the kill a new write probe starts this often, each with the client's own deadline, and
   * the clock stops at the first that succeeds. Why overlapping probes: one write at a time
   * measures the client's deadline, not the system: a write a follower forwarded to the dead
   * leader waits out the whole deadline (etcd: every round was 2,0xx ms with a 2 s deadline while
   * it had elected a new leader in about 1 s). The interval is the figure's resolution.
   */
  failoverProbeIntervalMs: 20,
  /** Probes in flight at most: 2 s of stuck probes at the interval above, with room. */
  failoverProbesInFlightMax: 128,
  /**
   * Before its rows, each system idles this long to measure its CPU at rest (ticks, heartbeats,
   * timers): at 1 client that cost, spread over few writes, is most of "CPU per 1,000 writes".
   */
  idleMs: 2_000,
  /** A failover that takes longer than this is reported as a failure, not waited on forever. */
  failoverTimeoutMs: 30_000,
} as const;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

export interface ThroughputRowOptions {
  readonly test: 'put' | 'get';
  readonly clients: number;
  /** How long the row runs (default benchLimits.rowMs); longer rows make steadier profiles. */
  readonly rowMs?: number;
  readonly progress: (line: string) => void;
}

export async function throughputRow(target: BenchTarget, options: ThroughputRowOptions): Promise<Row> {
  const { test, clients, progress } = options;
  const value = new Uint8Array(benchLimits.valueBytes).fill(97);
  const latencies: number[] = [];
  let errors = 0;
  let seq = 0;
  const groups = target.cpuGroups();
  const cpuBefore = sampleCpu(groups);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + (options.rowMs ?? benchLimits.rowMs);
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const key = `bench/${(seq++ * 7919) % benchLimits.keys}`;
      const t0 = performance.now();
      try {
        if (test === 'put') await target.put(key, value);
        else await target.get(key);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  const clientUsage = process.cpuUsage(clientBefore);
  const systemCpu = cpuDelta(cpuBefore, sampleCpu(groups));
  // Milliseconds are below the clock tick (10 ms): more digits would be noise in the JSON.
  const cpuSeconds = Object.fromEntries(Object.entries({ ...systemCpu, client: (clientUsage.user + clientUsage.system) / 1e6 }).map(([group, seconds]) => [group, round3(seconds)]));
  latencies.sort((a, b) => a - b);
  const row: Row = {
    system: target.name, test, clients,
    opsPerSecond: Math.round(latencies.length / elapsedS), operations: latencies.length,
    p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), p999Ms: round(percentile(latencies, 99.9)),
    errors, cpuSeconds,
  };
  progress(`${target.name} ${test} x${clients}: ${row.opsPerSecond} ops/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, p99.9 ${row.p999Ms} ms, errors ${errors}, CPU s per 1,000 ops: ${cpuPerThousandText(row)}`);
  return row;
}

/** Median time from kill -9 of the leader to the first successful write (overlapping probes, the same for every system). */
export async function failoverRow(target: BenchTarget, progress: (line: string) => void): Promise<FailoverResult> {
  const rounds: number[] = [];
  const value = new Uint8Array(benchLimits.valueBytes).fill(98);
  for (let round = 0; round < benchLimits.failoverRounds; round++) {
    await firstSuccess(target, value, 'before the kill');
    await target.killLeader();
    rounds.push(Math.round(await timeToFirstWrite(target, value)));
    progress(`${target.name} failover round ${round + 1}: ${rounds[rounds.length - 1]} ms`);
    await target.restartKilled();
  }
  const sorted = [...rounds].sort((a, b) => a - b);
  return { system: target.name, election: target.election, medianMs: percentile(sorted, 50), roundsMs: rounds };
}

/** Retries a write, one at a time, until it succeeds: before each kill the cluster must take writes. */
async function firstSuccess(target: BenchTarget, value: Uint8Array, when: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    try {
      await target.putRetrySafe('bench/failover', value);
      return;
    } catch {
      if (performance.now() - started > benchLimits.failoverTimeoutMs) throw new Error(`${target.name}: no successful write within ${benchLimits.failoverTimeoutMs} ms ${when}`);
      // A refused connection fails at once; a short pause keeps the retry loop from spinning a core.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/**
 * Milliseconds from now (just after the kill) to the first successful write of overlapping probes
 * (see failoverProbeIntervalMs); waits for every probe to settle before answering, so the next
 * round starts with none in flight.
 */
async function timeToFirstWrite(target: BenchTarget, value: Uint8Array): Promise<number> {
  const started = performance.now();
  let succeededAt: number | null = null;
  let firstSuccessSeen: () => void = () => undefined;
  const firstSuccess = new Promise<void>((resolve) => {
    firstSuccessSeen = resolve;
  });
  const inFlight = new Set<Promise<void>>();
  const probe = (): void => {
    const attempt: Promise<void> = target.putRetrySafe('bench/failover', value).then(
      () => {
        if (succeededAt === null) succeededAt = performance.now();
        firstSuccessSeen();
      },
      () => undefined,
    ).finally(() => inFlight.delete(attempt));
    inFlight.add(attempt);
  };
  while (succeededAt === null) {
    if (performance.now() - started > benchLimits.failoverTimeoutMs) {
      await Promise.all(inFlight);
      throw new Error(`${target.name}: no successful write within ${benchLimits.failoverTimeoutMs} ms after killing the leader`);
    }
    if (inFlight.size < benchLimits.failoverProbesInFlightMax) probe();
    await Promise.race([firstSuccess, new Promise((resolve) => setTimeout(resolve, benchLimits.failoverProbeIntervalMs))]);
  }
  await Promise.all(inFlight);
  return (succeededAt as number) - started;
}

/** CPU of the system's processes at rest, in cores (CPU seconds per second) per group. */
export async function idleCpuCores(target: BenchTarget, idleMs: number = benchLimits.idleMs): Promise<Record<string, number>> {
  const groups = target.cpuGroups();
  const before = sampleCpu(groups);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const seconds = (performance.now() - started) / 1000;
  const delta = cpuDelta(before, sampleCpu(groups));
  return Object.fromEntries(Object.entries(delta).map(([group, cpu]) => [group, cpu / seconds]));
}

/** CPU seconds per 1,000 successful operations of one group over a row (NaN without operations). */
export function cpuPerThousand(row: Row, group: string): number {
  return row.operations === 0 ? Number.NaN : ((row.cpuSeconds[group] ?? 0) / row.operations) * 1000;
}

function cpuPerThousandText(row: Row): string {
  return Object.keys(row.cpuSeconds).map((group) => `${group} ${cpuPerThousand(row, group).toFixed(3)}`).join(', ');
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
