/** `kubus down`: stops every process `kubus up` recorded in `D/cluster.json`, by pid (agents, members, NATS); keeps the data. */
import { resolve } from 'node:path';
import { isAlive, readClusterFile, type ClusterProcess } from './cluster-file.js';

/** Members get this long to stop cleanly on SIGTERM before SIGKILL. */
const gracefulStopMs = 5_000;
/**
 * Agents started by `up` drain on SIGTERM (each pod's preStop and SIGTERM, up to its grace period,
 * 30 s by default): give them that and a margin before SIGKILL.
 */
const agentStopMs = 35_000;
/** Agents first (their pods stop while the API still takes their status), then members, then NATS. */
const stopOrder: Readonly<Record<string, number>> = { agent: 0, server: 1, nats: 2 };

export async function runDownCommand(flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir);
  const file = readClusterFile(dir);
  if (file === null) throw new Error(`no cluster recorded in ${dir} (no cluster.json); nothing to stop`);
  // NATS last, so members and agents do not log a storm of reconnects while stopping.
  const ordered = [...file.processes].sort((a, b) => (stopOrder[a.role] ?? 1) - (stopOrder[b.role] ?? 1));
  // Agents in parallel (each may wait out its pods' grace periods), the control plane one by one.
  await Promise.all(ordered.filter((proc) => proc.role === 'agent').map(async (proc) => {
    await stop(proc, agentStopMs);
    await stopAgentContainerd(proc);
  }));
  for (const proc of ordered.filter((p) => p.role !== 'agent')) await stop(proc, gracefulStopMs);
  process.stdout.write(`kubus down: done; data kept in ${dir} (kubus up --dir ${flags.dir} restarts it)\n`);
}

/**
 * A `--runtime cri` agent's private containerd outlives the agent by design (its pods keep running
 * through an agent restart); `down` ends the cluster, so it stops that containerd and its pods too.
 * A no-op for agents that had none. Loaded lazily: `down` of a process-runtime cluster needs no gRPC.
 */
async function stopAgentContainerd(proc: ClusterProcess): Promise<void> {
  if (proc.dataDir === null) return;
  const { stopPrivateContainerd } = await import('../../../nodeagent/runtime/cri/index.js');
  try {
    await stopPrivateContainerd(proc.dataDir, { removePods: true });
  } catch (error) {
    process.stdout.write(`kubus down: agent ${proc.id}: its containerd did not stop cleanly: ${(error as Error).message}\n`);
  }
}

async function stop(proc: ClusterProcess, graceMs: number): Promise<void> {
  if (proc.pid <= 0 || !isAlive(proc.pid)) {
    process.stdout.write(`kubus down: ${proc.role} ${proc.id} not running\n`);
    return;
  }
  process.kill(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(proc.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(proc.pid)) process.kill(proc.pid, 'SIGKILL');
  process.stdout.write(`kubus down: ${proc.role} ${proc.id} stopped (pid ${proc.pid})\n`);
}
