/**
 * Kills every container a process runtime started under an agent directory, without an agent:
 * for `kubus down` after an agent was killed before it drained (its containers outlive it by
 * design) and for test clean-up. Only processes whose pid *and* start time match the records are
 * signalled, so a reused pid is never hit.
 */
import { existsSync } from 'node:fs';
import { loadContainerRecords, processLayout } from './layout.js';
import { isAlive, signalGroup } from './proc.js';

/** Sends SIGKILL to each live container's process group; returns how many were signalled. */
export function killProcessContainers(agentDir: string): number {
  const layout = processLayout(agentDir);
  if (!existsSync(layout.stateDir)) return 0;
  let killed = 0;
  for (const record of loadContainerRecords(layout)) {
    if (record.process !== null && isAlive(record.process)) {
      signalGroup(record.process.pid, 'SIGKILL');
      killed += 1;
    }
  }
  return killed;
}
