/**
 * The cgroup files the process runtime writes, against a directory standing in for
 * /sys/fs/cgroup: v2 (unified: `cgroup.controllers` present; memory.max, cpu.max, cpu.weight and
 * delegation of memory+cpu to the kubus parent), v1 (memory.limit_in_bytes, CFS quota, shares),
 * no group for a container without resources, OOM counts from both formats, and "none" with a
 * reason when nothing is writable. (The real v1 hierarchy is exercised by the integration suite.)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainerCgroups, detectCgroups, oomKills } from '../../../nodeagent/runtime/process/cgroups.js';

const root = mkdtempSync(join(tmpdir(), 'kubus-cgroups-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = (path: string) => readFileSync(path, 'utf8');

describe('cgroups', () => {
  it('writes v2 limits under a delegated kubus parent', () => {
    const v2 = join(root, 'v2');
    mkdirSync(v2);
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpu memory');
    const support = detectCgroups(v2);
    expect(support.version).toBe('v2');
    expect(read(join(v2, 'cgroup.subtree_control'))).toBe('+memory +cpu');
    const paths = createContainerCgroups(support, 'c1', { memoryLimitBytes: 64 * 1024 * 1024, cpuLimitMillis: 500, cpuRequestMillis: 250 });
    const dir = join(v2, 'kubus', 'c1');
    expect(read(join(dir, 'memory.max'))).toBe(String(64 * 1024 * 1024));
    expect(read(join(dir, 'cpu.max'))).toBe('50000 100000');
    expect(paths?.procsFiles).toEqual([join(dir, 'cgroup.procs')]);
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    expect(oomKills(paths)).toBe(1);
  });

  it('writes v1 limits in the memory and cpu hierarchies', () => {
    const v1 = join(root, 'v1');
    mkdirSync(join(v1, 'memory'), { recursive: true });
    mkdirSync(join(v1, 'cpu'), { recursive: true });
    const support = detectCgroups(v1);
    expect(support.version).toBe('v1');
    const paths = createContainerCgroups(support, 'c2', { memoryLimitBytes: 1024, cpuLimitMillis: 5, cpuRequestMillis: 100 });
    expect(read(join(v1, 'memory', 'kubus', 'c2', 'memory.limit_in_bytes'))).toBe('1024');
    expect(read(join(v1, 'cpu', 'kubus', 'c2', 'cpu.cfs_quota_us'))).toBe('1000');
    expect(read(join(v1, 'cpu', 'kubus', 'c2', 'cpu.shares'))).toBe('102');
    writeFileSync(join(v1, 'memory', 'kubus', 'c2', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(oomKills(paths)).toBe(2);
    expect(createContainerCgroups(support, 'c3', {})).toBeNull();
    expect(oomKills(null)).toBe(0);
  });

  it('reports none with the reason when no hierarchy exists', () => {
    const support = detectCgroups(join(root, 'missing'));
    expect(support.version).toBe('none');
    expect(support.version === 'none' ? support.reason : '').toContain('not writable');
  });
});
