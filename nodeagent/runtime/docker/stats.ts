/**
 * One-shot container stats as the kubelet reads them: CPU as the cgroup's cumulative usage in
 * nanoseconds, memory as the working set, usage minus inactive file pages (cgroup v1
 * `total_inactive_file`, v2 `inactive_file`): page cache the kernel can drop is not counted,
 * which is also what the OOM killer looks at.
 */
export interface EngineStats {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
  readonly memory_stats?: { readonly usage?: number; readonly stats?: Readonly<Record<string, number>> };
}

export function cpuUsageNanos(stats: EngineStats): number {
  return stats.cpu_stats?.cpu_usage?.total_usage ?? 0;
}

export function workingSetBytes(stats: EngineStats): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const detail = stats.memory_stats?.stats ?? {};
  const inactive = detail['total_inactive_file'] ?? detail['inactive_file'] ?? 0;
  return Math.max(0, usage - inactive);
}
