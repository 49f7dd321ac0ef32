/**
 * CPU as a rate from two cumulative readings (pure): nanocores = CPU nanoseconds used per second
 * of wall time, as metrics-server computes `usage.cpu` from the kubelet's cumulative counters.
 */

export interface CumulativeCpu {
  /** Cumulative CPU time, nanoseconds. */
  readonly cpuUsageNanos: number;
  /** When it was read, ms (any clock, as long as both readings use the same one). */
  readonly timestampMs: number;
}

/**
 * Nanocores between `previous` and `next`; null when there is no rate to give: no previous
 * reading (first sight), no time between them, or a counter that went backwards (a container
 * recreated under the same id, a runtime restarted): the next pair gives a true rate again.
 */
export function cpuRateNanoCores(previous: CumulativeCpu | undefined, next: CumulativeCpu): number | null {
  if (previous === undefined) return null;
  const elapsedMs = next.timestampMs - previous.timestampMs;
  const usedNanos = next.cpuUsageNanos - previous.cpuUsageNanos;
  if (!(elapsedMs > 0) || !(usedNanos >= 0) || !Number.isFinite(usedNanos)) return null;
  return Math.round((usedNanos * 1000) / elapsedMs);
}
