/**
 * A member's view of the cluster's usage: the latest report of every node (nodeagent/metrics),
 * indexed by pod, answering the metrics.k8s.io handlers without a round trip.
 *
 * Decision: staleness is judged on this member's monotonic clock at receipt, not on the report's
 * wall-clock timestamp: an agent's clock may be skewed, and what matters is whether it still
 * reports. A node silent for `staleAfterMs` (three missed intervals) drops out of every answer, so
 * a stopped agent's pods are not served stale numbers (the HPA treats them as missing metrics).
 *
 * Decision: a pod is keyed by namespace/name and carries its uid; the handlers check the uid
 * against the pod object, so a pod deleted and recreated under the same name (a StatefulSet's)
 * does not inherit its predecessor's numbers. When two nodes report the same pod (it moved, and
 * the old node's last report is not stale yet), the newer report wins.
 */
import type { Clock } from '../../../bus/clock.js';
import { metricsProtocolLimits, type NodeMetricsReport, type PodUsage } from '../../../nodeagent/metrics/protocol.js';
import { metricsViewLimits } from './limits.js';

export interface PodSample {
  readonly pod: PodUsage;
  readonly node: string;
  readonly timestampMs: number;
  readonly windowMs: number;
}

/** What the handlers read. */
export interface MetricsSource {
  node(name: string): NodeMetricsReport | undefined;
  nodes(): readonly NodeMetricsReport[];
  pod(namespace: string, name: string): PodSample | undefined;
  /** Every fresh pod sample; of one namespace when given. */
  pods(namespace: string | null): readonly PodSample[];
}

interface Held {
  readonly report: NodeMetricsReport;
  readonly receivedAtMs: number;
}

export type AcceptResult = 'accepted' | 'full';

export class MetricsView implements MetricsSource {
  private readonly byNode = new Map<string, Held>();
  private readonly byPod = new Map<string, PodSample>();

  constructor(private readonly clock: Pick<Clock, 'now'>, private readonly staleAfterMs: number = metricsProtocolLimits.staleAfterMs) {}

  /** Keeps `report` (already checked: report-check.ts) as its node's latest. */
  accept(report: NodeMetricsReport): AcceptResult {
    const nowMs = this.clock.now();
    const previous = this.byNode.get(report.node);
    if (previous === undefined && this.byNode.size >= metricsViewLimits.nodesMax) {
      this.sweep(nowMs);
      if (this.byNode.size >= metricsViewLimits.nodesMax) return 'full';
    }
    // A reordered older report never replaces a newer one of the same node.
    if (previous !== undefined && previous.report.timestampMs > report.timestampMs) return 'accepted';
    if (previous !== undefined) this.unindex(previous.report);
    this.byNode.set(report.node, { report, receivedAtMs: nowMs });
    for (const pod of report.pods) {
      const key = podKey(pod.namespace, pod.name);
      const other = this.byPod.get(key);
      if (other !== undefined && other.node !== report.node && other.timestampMs > report.timestampMs) continue;
      this.byPod.set(key, { pod, node: report.node, timestampMs: report.timestampMs, windowMs: report.windowMs });
    }
    return 'accepted';
  }

  node(name: string): NodeMetricsReport | undefined {
    const held = this.byNode.get(name);
    return held !== undefined && this.fresh(held, this.clock.now()) ? held.report : undefined;
  }

  nodes(): readonly NodeMetricsReport[] {
    this.sweep(this.clock.now());
    return [...this.byNode.values()].map((held) => held.report);
  }

  pod(namespace: string, name: string): PodSample | undefined {
    const sample = this.byPod.get(podKey(namespace, name));
    if (sample === undefined) return undefined;
    return this.node(sample.node) !== undefined ? sample : undefined;
  }

  pods(namespace: string | null): readonly PodSample[] {
    this.sweep(this.clock.now());
    const all = [...this.byPod.values()];
    return namespace === null ? all : all.filter((sample) => sample.pod.namespace === namespace);
  }

  /** Nodes held (fresh or not yet swept). */
  size(): number {
    return this.byNode.size;
  }

  private fresh(held: Held, nowMs: number): boolean {
    return nowMs - held.receivedAtMs < this.staleAfterMs;
  }

  private sweep(nowMs: number): void {
    for (const [node, held] of this.byNode) {
      if (this.fresh(held, nowMs)) continue;
      this.byNode.delete(node);
      this.unindex(held.report);
    }
  }

  /** Forgets the pods `report` put in the index (those another node's newer report took stay). */
  private unindex(report: NodeMetricsReport): void {
    for (const pod of report.pods) {
      const key = podKey(pod.namespace, pod.name);
      if (this.byPod.get(key)?.node === report.node) this.byPod.delete(key);
    }
  }
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
