/**
 * CPU time of processes we started, from Linux's /proc/<pid>/stat (utime + stime, in clock ticks):
 * the store benchmark charges each system the CPU its member processes (and, for kubus, its
 * nats-server) spent over a row, so "faster" cannot hide "burns more of the machine".
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** utime + stime of one /proc/<pid>/stat line, in clock ticks. */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) sits in parentheses and may hold spaces or ')': fields are counted
  // from the last ')'. After it: field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in /proc/<pid>/stat: ${stat.slice(0, 80)}`);
  return utime + stime;
}

let ticksPerSecondCached: number | null = null;

/** The kernel's USER_HZ (`getconf CLK_TCK`); 100 on every Linux we know when getconf is missing. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecondCached !== null) return ticksPerSecondCached;
  let ticks = 100;
  try {
    const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(answer) && answer > 0) ticks = answer;
  } catch {
    // No getconf: keep the Linux default.
  }
  ticksPerSecondCached = ticks;
  return ticks;
}

/** CPU seconds (user + system) a process has used so far; null when it is gone (killed, exited). */
export function processCpuSeconds(pid: number): number | null {
  try {
    return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

/** Named groups of pids (e.g. members, nats): CPU seconds per group, summed over the pids still alive. */
export type CpuGroups = Readonly<Record<string, readonly number[]>>;

export function sampleCpu(groups: CpuGroups): Record<string, number> {
  const sample: Record<string, number> = {};
  for (const [group, pids] of Object.entries(groups)) {
    sample[group] = pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  }
  return sample;
}

/** CPU seconds per group between two samples; a group missing from either counts 0. */
export function cpuDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const group of Object.keys(after)) delta[group] = Math.max(0, (after[group] ?? 0) - (before[group] ?? 0));
  return delta;
}
