/**
 * Reads the host (I/O): its fixed facts once (cores, memory, machine and boot ids, OS) and its
 * readings on every status pass (memory and disk available, processes). Anything unreadable
 * falls back to what `node:os` says or to an empty id, never throws: a Node is registered with
 * what the host gives, as the kubelet does on hosts without DMI or systemd.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, freemem, hostname, platform, release, totalmem } from 'node:os';
import { parseLoadavgProcesses, parseMeminfo, parseOsRelease, parsePidMax, type HostReadings } from './host-readings.js';

export interface HostFacts {
  readonly hostname: string;
  readonly cpuCores: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly machineID: string;
  readonly bootID: string;
  readonly systemUUID: string;
  readonly osImage: string;
  readonly kernelVersion: string;
  /** `amd64`, `arm64`, ... (Go's names, as Kubernetes labels use them). */
  readonly architecture: string;
  readonly operatingSystem: string;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Node's `process.arch` names → Go's GOARCH names (what `kubernetes.io/arch` carries). */
export function goArch(nodeArch: string): string {
  const names: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[nodeArch] ?? nodeArch;
}

function disk(dir: string): { readonly total: number; readonly available: number } {
  try {
    const stats = statfsSync(dir);
    return { total: stats.blocks * stats.bsize, available: stats.bavail * stats.bsize };
  } catch {
    return { total: 0, available: 0 };
  }
}

export function readHostFacts(dir: string): HostFacts {
  const meminfo = parseMeminfo(readText('/proc/meminfo') ?? '');
  return {
    hostname: hostname(),
    cpuCores: Math.max(1, cpus().length),
    memoryBytes: meminfo?.totalBytes ?? totalmem(),
    diskBytes: disk(dir).total,
    machineID: (readText('/etc/machine-id') ?? '').trim(),
    bootID: (readText('/proc/sys/kernel/random/boot_id') ?? '').trim(),
    // Readable by root only on most hosts; the kubelet leaves it empty too then.
    systemUUID: (readText('/sys/class/dmi/id/product_uuid') ?? '').trim().toLowerCase(),
    osImage: parseOsRelease(readText('/etc/os-release') ?? readText('/usr/lib/os-release') ?? ''),
    kernelVersion: release(),
    architecture: goArch(arch()),
    operatingSystem: platform(),
  };
}

/**
 * The host-wide readings (memory, processes) are shared by every Node part of a process for this
 * long: `kubus agent --hollow-nodes 5000` would otherwise read /proc 500 times a second for the
 * same numbers. Disk is read per call (each agent's --dir may be on another filesystem).
 */
export const hostReadingsCacheMs = 2_000;
let shared: { readonly atMs: number; readonly readings: Omit<HostReadings, 'diskTotalBytes' | 'diskAvailableBytes'> } | null = null;

/** `nowMs`: the caller's monotonic clock, for the shared cache. */
export function readHostReadings(dir: string, nowMs: number): HostReadings {
  if (shared === null || nowMs - shared.atMs >= hostReadingsCacheMs || nowMs < shared.atMs) {
    const meminfo = parseMeminfo(readText('/proc/meminfo') ?? '');
    shared = {
      atMs: nowMs,
      readings: {
        memoryTotalBytes: meminfo?.totalBytes ?? totalmem(),
        memoryAvailableBytes: meminfo?.availableBytes ?? freemem(),
        processes: parseLoadavgProcesses(readText('/proc/loadavg') ?? ''),
        pidMax: parsePidMax(readText('/proc/sys/kernel/pid_max') ?? ''),
      },
    };
  }
  const space = disk(dir);
  return { ...shared.readings, diskTotalBytes: space.total, diskAvailableBytes: space.available };
}
