/** The benchmark's adapter for an N-member kubus store: real processes on loopback (LocalCluster). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LocalCluster } from '../topology/local-processes.js';
import { defaultRaftTiming, type StoreClient } from '../../store/index.js';
import type { BenchTarget } from './workload.js';

export interface KubusTargetOptions {
  readonly members: number;
  /** Profile the members: Node's --cpu-prof writes one .cpuprofile per member process into this directory on a clean exit. */
  readonly cpuProfileDir?: string;
}

/** Members get this long to exit cleanly when profiled (a profile is written on exit only). */
const profiledStopGraceMs = 10_000;
/**
 * Waiting for an agreed leader after start or restart: an election takes ~1 s here, but under a
 * load of 15+ on 2 cores a member took 45 s from spawn to opening its data directory (tsx compiling).
 */
const leaderWaitMs = 120_000;

export async function startKubusTarget(options: KubusTargetOptions): Promise<BenchTarget & { readonly memberPids: () => Map<string, number[]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-'));
  const profiling = options.cpuProfileDir !== undefined;
  const cluster = new LocalCluster({
    // The shipped defaults (`kubus server` without timing flags), said so beside the failover row.
    dir, members: options.members, tickMs: defaultRaftTiming.tickMs, electionTicks: defaultRaftTiming.electionTicks,
    ...(profiling ? { execArgv: ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir as string], stopGraceMs: profiledStopGraceMs } : {}),
  });
  try {
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: leaderWaitMs });
  } catch (error) {
    // Leave no nats-server or member behind (they would outlive the benchmark process).
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const client: StoreClient = await cluster.client();
  /** Every pid each member had (a restarted member gets a new one): names the profile files. */
  const pidsSeen = new Map<string, number[]>();
  const notePids = (): void => {
    for (const id of cluster.memberIds) {
      const pid = cluster.pid(id);
      const seen = pidsSeen.get(id) ?? [];
      if (pid !== null && !seen.includes(pid)) pidsSeen.set(id, [...seen, pid]);
    }
  };
  notePids();
  let killed: string | null = null;
  const { tickMs, electionTicks, heartbeatTicks } = defaultRaftTiming;
  return {
    name: 'kubus',
    election: `election ${electionTicks * tickMs}-${2 * electionTicks * tickMs} ms (${electionTicks}-${2 * electionTicks} ticks of ${tickMs} ms), heartbeat ${heartbeatTicks * tickMs} ms: kubus defaults`,
    async put(key, value) {
      // Like etcd's client: a plain put, no request id (that would add a dedup record per write).
      await client.put({ key, value });
    },
    async putRetrySafe(key, value) {
      // A request id makes the write safe to retry across a failover.
      await client.put({ key, value }, { requestId: randomUUID() });
    },
    async get(key) {
      await client.get(key);
    },
    cpuGroups() {
      const nats = cluster.natsPid();
      return {
        members: cluster.memberIds.flatMap((id) => (cluster.isRunning(id) ? [cluster.pid(id) as number] : [])),
        nats: nats === null ? [] : [nats],
      };
    },
    async killLeader() {
      killed = await cluster.waitForLeader({ timeoutMs: leaderWaitMs });
      await cluster.killAndWait(killed);
    },
    async restartKilled() {
      if (killed === null) return;
      await cluster.restart(killed);
      notePids();
      await cluster.waitForLeader({ timeoutMs: leaderWaitMs });
      killed = null;
    },
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    memberPids: () => pidsSeen,
  };
}
