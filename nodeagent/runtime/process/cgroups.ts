/**
 * Resource limits for process containers through cgroups, where the host lets the agent write
 * them: v1 (separate `memory` and `cpu` hierarchies, as on our Debian machines) or v2 (one
 * unified tree), each container in its own group under a `kubus` parent. Memory limit → the
 * kernel OOM-kills the container and counts it (reason OOMKilled); CPU limit → CFS quota over a
 * 100 ms period; CPU request → shares (weight on v2).
 *
 * Decision: the container joins its groups itself (its first act, before it execs the command:
 * see wrapper.ts), so not one instruction of it runs unlimited and the agent needs no race-prone
 * "move after start". Where no hierarchy is writable (no root, read-only /sys/fs/cgroup, v2
 * without delegation) limits are not enforced and `status()` says so; pods still run.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerResources } from '../types.js';
import type { CgroupPaths } from './layout.js';

const cgroupRoot = '/sys/fs/cgroup';
const parentName = 'kubus';
/** CFS period: the kernel's default, 100 ms. */
const cpuPeriodMicros = 100_000;

export type CgroupSupport =
  | { readonly version: 'v1'; readonly memoryDir: string; readonly cpuDir: string }
  | { readonly version: 'v2'; readonly dir: string }
  | { readonly version: 'none'; readonly reason: string };

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a writable hierarchy and creates the `kubus` parent in it. */
export function detectCgroups(root = cgroupRoot): CgroupSupport {
  try {
    if (existsSync(join(root, 'cgroup.controllers'))) {
      const dir = join(root, parentName);
      mkdirSync(dir, { recursive: true });
      // Delegate memory and cpu to our children (v2 only lets leaf groups hold processes).
      writeFileSync(join(root, 'cgroup.subtree_control'), '+memory +cpu');
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu');
      return { version: 'v2', dir };
    }
    const memoryDir = join(root, 'memory', parentName);
    const cpuDir = join(root, 'cpu', parentName);
    if (!writable(join(root, 'memory')) || !writable(join(root, 'cpu'))) return { version: 'none', reason: `${root}/memory and ${root}/cpu are not writable` };
    mkdirSync(memoryDir, { recursive: true });
    mkdirSync(cpuDir, { recursive: true });
    return { version: 'v1', memoryDir, cpuDir };
  } catch (error) {
    return { version: 'none', reason: `cgroups under ${root} are not writable (${(error as Error).message})` };
  }
}

function needsGroup(resources: ContainerResources): boolean {
  return resources.memoryLimitBytes !== undefined || resources.cpuLimitMillis !== undefined || resources.cpuRequestMillis !== undefined;
}

/** Creates the container's groups with its limits; null when it has none or the host has no cgroups. */
export function createContainerCgroups(support: CgroupSupport, containerId: string, resources: ContainerResources): CgroupPaths | null {
  if (support.version === 'none' || !needsGroup(resources)) return null;
  if (support.version === 'v2') {
    const dir = join(support.dir, containerId);
    mkdirSync(dir, { recursive: true });
    if (resources.memoryLimitBytes !== undefined) {
      writeFileSync(join(dir, 'memory.max'), String(resources.memoryLimitBytes));
      writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
    if (resources.cpuLimitMillis !== undefined) writeFileSync(join(dir, 'cpu.max'), `${Math.max(1_000, resources.cpuLimitMillis * 100)} ${cpuPeriodMicros}`);
    if (resources.cpuRequestMillis !== undefined) writeFileSync(join(dir, 'cpu.weight'), String(Math.min(10_000, Math.max(1, Math.round((resources.cpuRequestMillis * 100) / 1024)))));
    return { directories: [dir], procsFiles: [join(dir, 'cgroup.procs')], oomCounterFile: join(dir, 'memory.events') };
  }
  const memory = join(support.memoryDir, containerId);
  const cpu = join(support.cpuDir, containerId);
  mkdirSync(memory, { recursive: true });
  mkdirSync(cpu, { recursive: true });
  if (resources.memoryLimitBytes !== undefined) writeFileSync(join(memory, 'memory.limit_in_bytes'), String(resources.memoryLimitBytes));
  if (resources.cpuLimitMillis !== undefined) {
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(cpuPeriodMicros));
    // The kernel's smallest quota is 1 ms.
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1_000, resources.cpuLimitMillis * 100)));
  }
  if (resources.cpuRequestMillis !== undefined) writeFileSync(join(cpu, 'cpu.shares'), String(Math.max(2, Math.round((resources.cpuRequestMillis * 1024) / 1000))));
  return { directories: [memory, cpu], procsFiles: [join(memory, 'cgroup.procs'), join(cpu, 'cgroup.procs')], oomCounterFile: join(memory, 'memory.oom_control') };
}

/** OOM kills the kernel counted in the container's memory group (`oom_kill N` in both versions). */
export function oomKills(paths: CgroupPaths | null): number {
  if (paths === null || paths.oomCounterFile === null) return 0;
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(paths.oomCounterFile, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Removes the container's groups (they must be empty: called once its processes are gone). */
export function removeContainerCgroups(paths: CgroupPaths | null): void {
  for (const dir of paths?.directories ?? []) {
    try {
      rmdirSync(dir);
    } catch {
      // Still busy (a straggler not yet reaped) or already gone: left for the next removal.
    }
  }
}
