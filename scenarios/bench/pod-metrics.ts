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

/**
 * Cumulative buckets (le → count), sum and count of one histogram in an exposition text, summed
 * over its series whose line holds every `labels` substring (all series when none are given).
 */
export function parseHistogram(text: string, name: string, labels: readonly string[] = []): { buckets: Map<number, number>; sum: number; count: number } {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!labels.every((l) => line.includes(l))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket{`)) {
      const text = /le="([^"]+)"/.exec(line)?.[1];
      if (text === undefined) continue;
      const le = text === '+Inf' ? Number.POSITIVE_INFINITY : Number(text);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    } else if (line.startsWith(`${name}_sum`)) {
      sum += value;
    } else if (line.startsWith(`${name}_count`)) {
      count += value;
    }
  }
  return { buckets, sum, count };
}

/** `le` of the bucket holding quantile q of the histogram summed over `texts`, or null without samples. */
export function mergedQuantile(texts: readonly string[], name: string, q: number, labels: readonly string[] = []): number | null {
  const merged = new Map<number, number>();
  let count = 0;
  for (const text of texts) {
    const histogram = parseHistogram(text, name, labels);
    for (const [le, value] of histogram.buckets) merged.set(le, (merged.get(le) ?? 0) + value);
    count += histogram.count;
  }
  return count === 0 ? null : bucketQuantile(merged, count, q);
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
