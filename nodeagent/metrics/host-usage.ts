/**
 * The host's CPU and memory as a node's usage: `/proc/stat`'s first line (cumulative CPU ticks)
 * and `/proc/meminfo` (working set = total − available), parsed by pure functions and read by
 * `readHostUsage`, which never throws (an unreadable /proc gives null: the report then waits).
 */
import { readFileSync } from 'node:fs';
import { parseMeminfo } from '../node/host-readings.js';
import { procStatTicksPerSecond } from './limits.js';

export interface HostUsage {
  /** Cumulative busy CPU time of every core, nanoseconds. */
  readonly cpuUsageNanos: number;
  readonly memoryWorkingSetBytes: number;
}

/**
 * `/proc/stat` → cumulative busy CPU time in ns: user + nice + system + irq + softirq + steal
 * (idle and iowait are not busy; guest time is already inside user). Null when the line is not there.
 */
export function parseProcStatCpu(text: string): number | null {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (line === undefined) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return null;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) * (1e9 / procStatTicksPerSecond);
}

/** Working set as the kubelet reports a node's: what is in use, total minus available. */
export function hostMemoryWorkingSet(meminfoText: string): number | null {
  const meminfo = parseMeminfo(meminfoText);
  return meminfo === null ? null : Math.max(0, meminfo.totalBytes - meminfo.availableBytes);
}

export function readHostUsage(): HostUsage | null {
  try {
    const cpu = parseProcStatCpu(readFileSync('/proc/stat', 'utf8'));
    const memory = hostMemoryWorkingSet(readFileSync('/proc/meminfo', 'utf8'));
    return cpu === null || memory === null ? null : { cpuUsageNanos: cpu, memoryWorkingSetBytes: memory };
  } catch {
    return null;
  }
}
