/** `kubus down`: stops every process `kubus up` recorded in `D/cluster.json`, by pid; keeps the data. */
import { resolve } from 'node:path';
import { isAlive, readClusterFile } from './cluster-file.js';

/** Members get this long to stop cleanly on SIGTERM before SIGKILL. */
const gracefulStopMs = 5_000;

export async function runDownCommand(flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir);
  const file = readClusterFile(dir);
  if (file === null) throw new Error(`no cluster recorded in ${dir} (no cluster.json); nothing to stop`);
  // Members first, then NATS, so members do not log a storm of reconnects while stopping.
  const ordered = [...file.processes].sort((a, b) => (a.role === b.role ? 0 : a.role === 'server' ? -1 : 1));
  for (const proc of ordered) {
    if (proc.pid <= 0 || !isAlive(proc.pid)) {
      process.stdout.write(`kubus down: ${proc.role} ${proc.id} not running\n`);
      continue;
    }
    process.kill(proc.pid, 'SIGTERM');
    const deadline = Date.now() + gracefulStopMs;
    while (isAlive(proc.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(proc.pid)) process.kill(proc.pid, 'SIGKILL');
    process.stdout.write(`kubus down: ${proc.role} ${proc.id} stopped (pid ${proc.pid})\n`);
  }
  process.stdout.write(`kubus down: done; data kept in ${dir} (kubus up --dir ${flags.dir} restarts it)\n`);
}
