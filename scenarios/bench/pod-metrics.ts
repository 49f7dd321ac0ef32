/**
 * The agents' own view of pod start (kubelet_pod_start_duration_seconds, first seen → Running),
 * read from each bench agent's `/metrics` (`--metrics-address`) and merged: a cross-check of the bench's client-side figure, without the API and watch path.
 * Prometheus histograms give bucket bounds, so the quantile is "at most this bucket's bound".
 */

export interface AgentPodStartFigures {
  /** Pods the agents timed. */
  readonly count: number;
  /** Upper bound (seconds) of the bucket holding the 99th percentile. */
  readonly p99UpperBoundSeconds: number;
  readonly meanSeconds: number;
}

const metricName = 'kubelet_pod_start_duration_seconds';
/** One scrape may take this long before the agent counts as not serving metrics. */
const scrapeTimeoutMs = 5_000;

/** Cumulative buckets (le → count), sum and count of one histogram in an exposition text. */
export function parseHistogram(text: string, name: string): { buckets: Map<number, number>; sum: number; count: number } {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (le !== undefined) buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), value);
    } else if (line.startsWith(`${name}_sum`)) {
      sum = Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith(`${name}_count`)) {
      count = Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return { buckets, sum, count };
}

/** The smallest bucket bound with at least q of the samples at or under it. */
export function bucketQuantile(buckets: ReadonlyMap<number, number>, count: number, q: number): number {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  for (const [le, cumulative] of sorted) if (cumulative >= q * count) return le;
  return Number.POSITIVE_INFINITY;
}

export async function agentPodStartFigures(urls: readonly string[]): Promise<AgentPodStartFigures | null> {
  const merged = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const url of urls) {
    const reply = await fetch(url, { signal: AbortSignal.timeout(scrapeTimeoutMs) }).catch(() => null);
    if (reply === null || !reply.ok) continue;
    const histogram = parseHistogram(await reply.text(), metricName);
    for (const [le, value] of histogram.buckets) merged.set(le, (merged.get(le) ?? 0) + value);
    sum += histogram.sum;
    count += histogram.count;
  }
  if (count === 0) return null;
  return { count, p99UpperBoundSeconds: bucketQuantile(merged, count, 0.99), meanSeconds: sum / count };
}
