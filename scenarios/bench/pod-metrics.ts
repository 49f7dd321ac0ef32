/**
 * The agents' own view of pod start (kubelet_pod_start_duration_seconds, first seen → Running),
 * read from each `kubus up` agent's `/metrics` (`--metrics-address`, default `<node-ip>:10255`)
 * and merged: a cross-check of the bench's client-side figure, without the API and watch path.
 * Prometheus histograms give bucket bounds, so the quantile is "at most this bucket's bound".
 */
import type { ClusterFile } from '../../actors/cli/commands/cluster-file.js';
import { defaultMetricsPort, parseMetricsAddress } from '../../bus/telemetry/index.js';

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

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(`--${flag}`);
  if (index >= 0) return argv[index + 1];
  return argv.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
}

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

export async function agentPodStartFigures(file: ClusterFile): Promise<AgentPodStartFigures | null> {
  const merged = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let scraped = 0;
  for (const agent of file.processes.filter((p) => p.role === 'agent')) {
    const nodeIp = flagValue(agent.argv, 'node-ip') ?? '127.0.0.1';
    const address = parseMetricsAddress(flagValue(agent.argv, 'metrics-address'), nodeIp) ?? null;
    if (address === null) continue;
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    const reply = await fetch(`http://${host}:${address.port || defaultMetricsPort}/metrics`, { signal: AbortSignal.timeout(scrapeTimeoutMs) }).catch(() => null);
    if (reply === null || !reply.ok) continue;
    const histogram = parseHistogram(await reply.text(), metricName);
    scraped++;
    for (const [le, value] of histogram.buckets) merged.set(le, (merged.get(le) ?? 0) + value);
    sum += histogram.sum;
    count += histogram.count;
  }
  if (scraped === 0 || count === 0) return null;
  return { count, p99UpperBoundSeconds: bucketQuantile(merged, count, 0.99), meanSeconds: sum / count };
}
