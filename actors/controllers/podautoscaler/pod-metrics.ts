/**
 * PodMetrics of `metrics.k8s.io/v1beta1` (what metrics-server, and kubus's members, serve) read as
 * the samples the replica calculator takes, as Kubernetes' resource metrics client reads them: a
 * pod's value is the sum over its containers (or one container's), and a pod one of whose
 * containers lacks the resource has no sample at all (it is "missing", not zero).
 */
import { parseQuantity } from '../../objects/index.js';
import type { PodMetric, PodMetrics } from './replica-calculator.js';

/** The served shape, as far as the autoscaler reads it. */
export interface PodMetricsItem {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  /** RFC 3339 time of the sample. */
  readonly timestamp?: string;
  /** A Go duration (`15s`, `1m0s`, `500ms`). */
  readonly window?: string;
  readonly containers?: readonly { readonly name?: string; readonly usage?: Readonly<Record<string, string>> }[];
}

/** `15s`, `1m0s`, `1.5s`, `500ms` in ms; 0 when unreadable. */
export function goDurationMs(text: string | undefined): number {
  if (text === undefined) return 0;
  const units: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)) total += Number(match[1]) * (units[match[2] as string] ?? 0);
  return total;
}

/** Samples of `resource` by pod name; `container` restricts each pod to that container (ContainerResource metrics). */
export function podSamples(items: readonly PodMetricsItem[], resource: string, container?: string): PodMetrics {
  const samples = new Map<string, PodMetric>();
  for (const item of items) {
    const name = item.metadata?.name;
    if (name === undefined) continue;
    const containers = (item.containers ?? []).filter((c) => container === undefined || c.name === container);
    if (containers.length === 0) continue;
    let sumMilli = 0;
    let complete = true;
    for (const c of containers) {
      const value = parseQuantity(c.usage?.[resource]);
      if (value === undefined) { complete = false; break; }
      sumMilli += Math.round(value * 1000);
    }
    if (!complete) continue;
    const timestampMs = item.timestamp !== undefined ? Date.parse(item.timestamp) : NaN;
    samples.set(name, { valueMilli: sumMilli, timestampMs: Number.isNaN(timestampMs) ? 0 : timestampMs, windowMs: goDurationMs(item.window) });
  }
  return samples;
}
