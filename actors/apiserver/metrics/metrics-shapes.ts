/**
 * NodeMetrics and PodMetrics objects as metrics-server writes them (pure): `usage.cpu` in
 * nanocores (`1500000n`), memory in kibibytes (`20480Ki`), `window` a Go duration (`15s`),
 * `timestamp` in RFC 3339 seconds, and metadata carrying the node's or pod's labels (what label
 * selectors match). `creationTimestamp` is the time of the answer, as metrics-server sets it: the
 * object is made for the request.
 */
import type { NodeMetricsReport } from '../../../nodeagent/metrics/protocol.js';
import type { KubeObject } from '../types.js';
import type { PodSample } from './metrics-view.js';
import { metricsApiVersion } from './resources.js';

/** `1500000n`; zero is `0`, as a Go Quantity prints it. */
export function formatCpu(nanoCores: number): string {
  const value = Math.max(0, Math.round(nanoCores));
  return value === 0 ? '0' : `${value}n`;
}

/** `20480Ki`, rounded to the nearest kibibyte; zero is `0`. */
export function formatMemory(bytes: number): string {
  const value = Math.max(0, Math.round(bytes / 1024));
  return value === 0 ? '0' : `${value}Ki`;
}

/** A Go `time.Duration` string for a window: `15s`, `1.5s`, `1m30s`, `250ms`. */
export function formatWindow(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  return minutes > 0 ? `${minutes}m${secondsText}` : secondsText;
}

/** RFC 3339 in whole seconds (metav1.Time's JSON form). */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function labelsOf(object: KubeObject | undefined): Record<string, string> | undefined {
  const labels = object?.metadata?.labels;
  return labels !== undefined && Object.keys(labels).length > 0 ? { ...labels } : undefined;
}

export function nodeMetricsObject(report: NodeMetricsReport, node: KubeObject | undefined, nowMs: number): KubeObject {
  const labels = labelsOf(node);
  return {
    kind: 'NodeMetrics', apiVersion: metricsApiVersion,
    metadata: { name: report.node, creationTimestamp: formatTime(nowMs), ...(labels !== undefined ? { labels } : {}) },
    timestamp: formatTime(report.timestampMs), window: formatWindow(report.windowMs),
    usage: { cpu: formatCpu(report.usage.cpuNanoCores), memory: formatMemory(report.usage.memoryWorkingSetBytes) },
  };
}

export function podMetricsObject(sample: PodSample, pod: KubeObject | undefined, nowMs: number): KubeObject {
  const labels = labelsOf(pod);
  return {
    kind: 'PodMetrics', apiVersion: metricsApiVersion,
    metadata: { name: sample.pod.name, namespace: sample.pod.namespace, creationTimestamp: formatTime(nowMs), ...(labels !== undefined ? { labels } : {}) },
    timestamp: formatTime(sample.timestampMs), window: formatWindow(sample.windowMs),
    containers: sample.pod.containers.map((c) => ({ name: c.name, usage: { cpu: formatCpu(c.cpuNanoCores), memory: formatMemory(c.memoryWorkingSetBytes) } })),
  };
}

export function metricsList(kind: 'NodeMetricsList' | 'PodMetricsList', items: readonly KubeObject[]): object {
  return { kind, apiVersion: metricsApiVersion, metadata: {}, items };
}
