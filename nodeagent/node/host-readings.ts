/**
 * The host as the Node reports it, read from `/proc` text by pure functions (tested over sample
 * text), and the pressure conditions decided from the readings: the kubelet's signals
 * `memory.available`, `nodefs.available` and `pid.available`, with its default hard eviction
 * thresholds as the points where a condition turns True.
 */

/** What the host measured at one moment; bytes and counts, null where the host would not say. */
export interface HostReadings {
  readonly memoryTotalBytes: number;
  readonly memoryAvailableBytes: number;
  /** The filesystem holding `--dir` (nodefs): size and space available to unprivileged users. */
  readonly diskTotalBytes: number;
  readonly diskAvailableBytes: number;
  /** Processes and threads running now, and the kernel's limit (`kernel.pid_max`). */
  readonly processes: number | null;
  readonly pidMax: number | null;
}

export const pressureThresholds = {
  /** The kubelet's default `evictionHard` `memory.available<100Mi`. */
  memoryAvailableBytes: 100 * 2 ** 20,
  /** The kubelet's default `nodefs.available<10%`. */
  diskAvailableFraction: 0.1,
  /**
   * The kubelet's `pid.available` signal has no default threshold; 10 % of pid_max left is where
   * forks start failing under load on small hosts, the same margin as nodefs.
   */
  pidAvailableFraction: 0.1,
} as const;

/** `/proc/meminfo` → total and available bytes (MemAvailable, as the kubelet's working set math starts from it). */
export function parseMeminfo(text: string): { readonly totalBytes: number; readonly availableBytes: number } | null {
  const kib = (key: string): number | null => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB$`, 'm').exec(text);
    return match === null ? null : Number(match[1]) * 1024;
  };
  const total = kib('MemTotal');
  if (total === null) return null;
  // Kernels before 3.14 have no MemAvailable: free + buffers + cached is what it replaced.
  const available = kib('MemAvailable') ?? (kib('MemFree') ?? 0) + (kib('Buffers') ?? 0) + (kib('Cached') ?? 0);
  return { totalBytes: total, availableBytes: available };
}

/** `/proc/loadavg` (`0.10 0.20 0.30 2/345 6789`) → the number of scheduling entities (345), what pid_max bounds. */
export function parseLoadavgProcesses(text: string): number | null {
  const match = /^\S+\s+\S+\s+\S+\s+\d+\/(\d+)\s/.exec(text);
  return match === null ? null : Number(match[1]);
}

/** `/proc/sys/kernel/pid_max` → the number. */
export function parsePidMax(text: string): number | null {
  const value = Number(text.trim());
  return Number.isInteger(value) && value > 0 ? value : null;
}

/** `/etc/os-release` → PRETTY_NAME (what the kubelet reports as osImage), else NAME VERSION, else "Linux". */
export function parseOsRelease(text: string): string {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match !== null) fields.set(match[1] as string, (match[2] as string).replace(/^(["'])(.*)\1$/, '$2'));
  }
  const pretty = fields.get('PRETTY_NAME');
  if (pretty !== undefined && pretty !== '') return pretty;
  const name = [fields.get('NAME'), fields.get('VERSION')].filter((part) => part !== undefined && part !== '').join(' ');
  return name === '' ? 'Linux' : name;
}

export type PressureType = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

export interface Pressure {
  readonly type: PressureType;
  readonly pressure: boolean;
  readonly reason: string;
  readonly message: string;
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)}Mi`;

/** The three pressure conditions, as the kubelet names their reasons. */
export function decidePressures(readings: HostReadings): readonly Pressure[] {
  const memory = readings.memoryAvailableBytes < pressureThresholds.memoryAvailableBytes;
  const diskFraction = readings.diskTotalBytes > 0 ? readings.diskAvailableBytes / readings.diskTotalBytes : 1;
  const disk = readings.diskTotalBytes > 0 && readings.diskAvailableBytes < readings.diskTotalBytes * pressureThresholds.diskAvailableFraction;
  // Compared as counts, not as a fraction (1 - 900/1000 is 0.0999… in floating point).
  const pid = readings.processes !== null && readings.pidMax !== null && readings.pidMax - readings.processes < readings.pidMax * pressureThresholds.pidAvailableFraction;
  return [
    {
      type: 'MemoryPressure', pressure: memory,
      reason: memory ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory',
      message: memory
        ? `kubelet has insufficient memory available: ${mib(readings.memoryAvailableBytes)} < ${mib(pressureThresholds.memoryAvailableBytes)}`
        : 'kubelet has sufficient memory available',
    },
    {
      type: 'DiskPressure', pressure: disk,
      reason: disk ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure',
      message: disk ? `kubelet has disk pressure: ${Math.round(diskFraction * 100)}% of nodefs available (< 10%)` : 'kubelet has no disk pressure',
    },
    {
      type: 'PIDPressure', pressure: pid,
      reason: pid ? 'KubeletHasInsufficientPID' : 'KubeletHasSufficientPID',
      message: pid ? `kubelet has insufficient PID available: ${readings.processes}/${readings.pidMax} in use` : 'kubelet has sufficient PID available',
    },
  ];
}
