/**
 * The metrics report an agent publishes on `kubus.<cluster>.metrics.node.<N>` every interval
 * (msgpackr), and members keep in memory to serve `metrics.k8s.io/v1beta1` (NodeMetrics,
 * PodMetrics) for `kubectl top` and the horizontal pod autoscaler. Shared by both sides (the API
 * server imports this file only).
 *
 * Decision: pushed, not scraped. An agent knows when it has fresh numbers; a member subscribes once
 * for all nodes (5,000 hollow nodes at one report per 15 s are 333 small messages a second), and
 * every member holds the same view, so any member answers `kubectl top` without fanning out.
 * NATS permissions let an agent publish only its own node's subject (bus/nats-auth.ts).
 *
 * Decision: CPU is a rate, computed by the agent from two cumulative readings one window apart
 * (nanocores, as metrics-server reports `usage.cpu` in `n`); memory is the working set in bytes.
 */

export interface ContainerUsage {
  readonly name: string;
  /** CPU in nanocores averaged over the window (1 core = 1e9). */
  readonly cpuNanoCores: number;
  readonly memoryWorkingSetBytes: number;
}

export interface PodUsage {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly containers: readonly ContainerUsage[];
}

export interface NodeMetricsReport {
  readonly v: 1;
  readonly node: string;
  /** Wall time of the readings (ms since the epoch). */
  readonly timestampMs: number;
  /** The window the CPU rates average over, ms. */
  readonly windowMs: number;
  readonly usage: { readonly cpuNanoCores: number; readonly memoryWorkingSetBytes: number };
  /** Running pods with a complete reading (a pod seen for the first time has no rate yet and is left out). */
  readonly pods: readonly PodUsage[];
}

export const metricsProtocolLimits = {
  /** How often agents report: metrics-server's default resolution, and the "every 15 s". */
  intervalMs: 15_000,
  /** A report older than this is dropped by members (three missed intervals: the node's agent is gone or cut off). */
  staleAfterMs: 45_000,
  /** Pods in one report; beyond it the rest are left out (and logged): a report must stay well under NATS's 1 MiB. */
  podsPerReportMax: 1_000,
} as const;
