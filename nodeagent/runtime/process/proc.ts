/**
 * What the process runtime reads from Linux's /proc: a process's start time (so a pid reused by
 * another program after ours exited is never taken for ours) and the CPU time and resident
 * memory of a process group (containerStats).
 *
 * Decision: clock ticks are taken as 100 per second (`getconf CLK_TCK` on every Linux x86-64 and
 * arm64 kernel) and pages as 4 KiB, rather than spawning `getconf` at start.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { ProcessIdentity } from './layout.js';

const ticksPerSecond = 100;
const pageBytes = 4096;

interface ProcStat {
  readonly pid: number;
  readonly processGroup: number;
  readonly state: string;
  readonly cpuTicks: number;
  readonly startTicks: number;
  readonly rssPages: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close === -1 || !Number.isInteger(pid)) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const number = (index: number) => Number(fields[index] ?? Number.NaN);
  const stat = { pid, state: fields[0] ?? '?', processGroup: number(2), cpuTicks: number(11) + number(12), startTicks: number(19), rssPages: number(21) };
  return Number.isFinite(stat.startTicks) ? stat : undefined;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : { pid, startTicks: stat.startTicks };
}

/** The process still runs and is the one we started (same start time); a zombie counts as gone. */
export function isAlive(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTicks === identity.startTicks && stat.state !== 'Z';
}

/** CPU time (ns) and resident memory (bytes) summed over the live members of a process group. */
export function processGroupUsage(processGroup: number): { readonly cpuUsageNanos: number; readonly rssBytes: number; readonly processes: number } {
  let cpuTicks = 0;
  let rssPages = 0;
  let processes = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === undefined || stat.processGroup !== processGroup || stat.state === 'Z') continue;
    cpuTicks += stat.cpuTicks;
    rssPages += stat.rssPages;
    processes += 1;
  }
  return { cpuUsageNanos: (cpuTicks * 1e9) / ticksPerSecond, rssBytes: rssPages * pageBytes, processes };
}

/** Signals a whole process group; a group already gone (ESRCH) is not an error. */
export function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
