/**
 * The store benchmark's CPU accounting reads utime + stime from /proc/<pid>/stat. Proves the
 * parser counts fields from the last ')' (a command name may hold spaces and parentheses), that
 * it refuses a line without the fields, and, on this Linux host, that our own process's figure
 * is positive and grows when we burn CPU (no timing bound: only the direction).
 */
import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, cpuDelta, parseProcStatTicks, processCpuSeconds, sampleCpu } from '../../scenarios/bench/process-cpu.js';

/** fields 3..17 after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
const line = (comm: string, utime: number, stime: number): string =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 1200 0 3 0 ${utime} ${stime} 7 9 20 0 11 0 123456 1000000 500`;

describe('parseProcStatTicks', () => {
  it('adds utime and stime, and leaves the children\'s cutime and cstime out', () => {
    expect(parseProcStatTicks(line('node', 150, 25))).toBe(175);
  });

  it('counts fields from the last parenthesis, so a command name with spaces and parentheses parses', () => {
    expect(parseProcStatTicks(line('we ird) (name', 10, 5))).toBe(15);
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseProcStatTicks('garbage')).toThrow(/not a \/proc/);
    expect(() => parseProcStatTicks('1 (x) S 1 2')).toThrow(/no utime/);
  });
});

describe('cpuDelta', () => {
  it('subtracts per group and never goes below zero (a restarted process starts again from 0)', () => {
    expect(cpuDelta({ members: 3, nats: 1 }, { members: 5.5, nats: 0.5 })).toEqual({ members: 2.5, nats: 0 });
  });

  it('counts a group missing from the first sample from zero', () => {
    expect(cpuDelta({}, { members: 2 })).toEqual({ members: 2 });
  });
});

describe.runIf(process.platform === 'linux')('on this host', () => {
  it('reads the clock tick rate', () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });

  it('reads our own CPU seconds, which grow when we work, and answers null for a pid that does not exist', () => {
    const before = processCpuSeconds(process.pid);
    expect(before).not.toBeNull();
    const tick = 1 / clockTicksPerSecond();
    const start = processCpuSeconds(process.pid) as number;
    let spin = 0;
    // Work until the counter moves by one tick at least: bounded by the work, not by a clock.
    while ((processCpuSeconds(process.pid) as number) < start + tick) spin++;
    expect(spin).toBeGreaterThan(0);
    expect(processCpuSeconds(2 ** 22 + 1)).toBeNull();
    expect(sampleCpu({ self: [process.pid], gone: [2 ** 22 + 1] }).gone).toBe(0);
  });
});
