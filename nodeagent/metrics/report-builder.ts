/**
 * One collection → one NodeMetricsReport (pure). The caller reads the runtime and the host; this
 * turns cumulative CPU into rates against the previous collection's readings and groups containers
 * into pods by their runtime labels.
 *
 * Decision: a pod is reported whole or not at all. A pod with a container lacking a rate (just
 * started, its stats call failed) is left out of this report, as metrics-server leaves out pods
 * with incomplete metrics: the HPA then counts it as missing, not as using less than it does.
 *
 * Decision: the first collection only remembers readings (no rate exists yet); reports start with
 * the second. The window is the time between the two collections. A container started since the
 * previous collection has a rate at once, from zero CPU at its start time (as metrics-server does
 * for a container that started between two scrapes): a new pod shows in `kubectl top` and counts
 * for the HPA one interval sooner.
 */
import { metricsProtocolLimits, type ContainerUsage, type NodeMetricsReport, type PodUsage } from './protocol.js';
import { cpuRateNanoCores, type CumulativeCpu } from './cpu-rate.js';
import type { HostUsage } from './host-usage.js';

export interface ContainerReading {
  readonly containerId: string;
  readonly podUid: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly containerName: string;
  /** When the container started (wall ms, the runtime's clock); null when the runtime does not say. */
  readonly startedAtMs: number | null;
  /** Null when the runtime gave no stats this time (timed out, container gone). */
  readonly stats: { readonly cpuUsageNanos: number; readonly memoryWorkingSetBytes: number; readonly timestampMs: number } | null;
}

/** What one collection read. `host`: the host's reading (timestamped on any clock, the same at every collection), null when unreadable, `'sum-of-pods'` for hollow nodes. */
export interface Collection {
  readonly node: string;
  /** Wall time of the collection, ms. */
  readonly nowMs: number;
  readonly containers: readonly ContainerReading[];
  readonly host: (HostUsage & { readonly timestampMs: number }) | null | 'sum-of-pods';
}

/** What a collection leaves for the next: the cumulative readings the next rates start from. */
export interface CollectorMemory {
  readonly containers: ReadonlyMap<string, CumulativeCpu>;
  readonly host: CumulativeCpu | null;
  readonly collectedAtMs: number | null;
}

export const emptyCollectorMemory: CollectorMemory = { containers: new Map(), host: null, collectedAtMs: null };

export interface BuiltReport {
  /** Null on the first collection, or when the host's CPU has no rate yet. */
  readonly report: NodeMetricsReport | null;
  readonly memory: CollectorMemory;
  /** Pods beyond `podsPerReportMax`, left out (the caller logs it). */
  readonly podsLeftOut: number;
}

export function buildReport(collection: Collection, memory: CollectorMemory): BuiltReport {
  const containers = new Map<string, CumulativeCpu>();
  const byPod = new Map<string, { readonly reading: ContainerReading; readonly usage: ContainerUsage | null }[]>();
  for (const reading of collection.containers) {
    let usage: ContainerUsage | null = null;
    if (reading.stats !== null) {
      const now = { cpuUsageNanos: reading.stats.cpuUsageNanos, timestampMs: reading.stats.timestampMs };
      containers.set(reading.containerId, now);
      const rate = cpuRateNanoCores(memory.containers.get(reading.containerId) ?? startedSince(reading, memory), now);
      if (rate !== null) usage = { name: reading.containerName, cpuNanoCores: rate, memoryWorkingSetBytes: Math.max(0, reading.stats.memoryWorkingSetBytes) };
    }
    const list = byPod.get(reading.podUid) ?? [];
    list.push({ reading, usage });
    byPod.set(reading.podUid, list);
  }
  const pods: PodUsage[] = [];
  for (const [uid, list] of byPod) {
    if (list.some((entry) => entry.usage === null)) continue;
    const first = list[0]?.reading;
    if (first === undefined) continue;
    pods.push({ namespace: first.podNamespace, name: first.podName, uid, containers: list.map((entry) => entry.usage as ContainerUsage) });
  }
  pods.sort((a, b) => (a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace)));
  const kept = pods.slice(0, metricsProtocolLimits.podsPerReportMax);
  const host = collection.host;
  const hostNow = host !== null && host !== 'sum-of-pods' ? { cpuUsageNanos: host.cpuUsageNanos, timestampMs: host.timestampMs } : null;
  const next: CollectorMemory = { containers, host: hostNow, collectedAtMs: collection.nowMs };
  const usage = nodeUsage(collection, memory, pods);
  if (memory.collectedAtMs === null || usage === null) return { report: null, memory: next, podsLeftOut: 0 };
  return {
    report: { v: 1, node: collection.node, timestampMs: collection.nowMs, windowMs: Math.max(1, collection.nowMs - memory.collectedAtMs), usage, pods: kept },
    memory: next,
    podsLeftOut: pods.length - kept.length,
  };
}

/** Zero CPU at the container's start, when it started after the previous collection (so no reading of it can be missing). */
function startedSince(reading: ContainerReading, memory: CollectorMemory): CumulativeCpu | undefined {
  const started = reading.startedAtMs;
  if (started === null || memory.collectedAtMs === null || started < memory.collectedAtMs) return undefined;
  return { cpuUsageNanos: 0, timestampMs: started };
}

/** The node's usage: the host's (a rate against the previous host reading), or the sum of its pods' on a hollow node. */
function nodeUsage(collection: Collection, memory: CollectorMemory, pods: readonly PodUsage[]): NodeMetricsReport['usage'] | null {
  const host = collection.host;
  if (host === null) return null;
  if (host === 'sum-of-pods') {
    let cpuNanoCores = 0;
    let memoryWorkingSetBytes = 0;
    for (const pod of pods) {
      for (const container of pod.containers) {
        cpuNanoCores += container.cpuNanoCores;
        memoryWorkingSetBytes += container.memoryWorkingSetBytes;
      }
    }
    return { cpuNanoCores, memoryWorkingSetBytes };
  }
  const rate = cpuRateNanoCores(memory.host ?? undefined, host);
  return rate === null ? null : { cpuNanoCores: rate, memoryWorkingSetBytes: host.memoryWorkingSetBytes };
}
