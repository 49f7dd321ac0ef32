/**
 * Every Prometheus metric kubus exports, in one place: names, help, labels and buckets. Where
 * Kubernetes (kube-apiserver, kubelet) has a metric for the same thing, ours has its name and
 * labels, so dashboards and alerts written for a real cluster read a kubus one; the store's follow
 * etcd's meaning under a `kubus_store_` prefix (it is not etcd).
 *
 * Decision: each group is defined on a registry the caller passes (one per process, made by the
 * composition root: no module-level registry, STYLE.md rule 4), and a process registers only the
 * groups it serves (a member: api + store; an agent: runtime + pods).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { telemetryLimits } from './limits.js';

/** API request labels, as kube-apiserver's: verb is LIST/WATCH/GET/POST/PUT/PATCH/DELETE/CONNECT. */
export const apiRequestLabels = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'code'] as const;
export type ApiRequestLabel = (typeof apiRequestLabels)[number];
const apiLatencyLabels = ['verb', 'group', 'version', 'resource', 'subresource', 'scope'] as const;
export type ApiLatencyLabel = (typeof apiLatencyLabels)[number];

export interface ApiMetrics {
  readonly requests: Counter<ApiRequestLabel>;
  readonly requestDuration: Histogram<ApiLatencyLabel>;
  /** Watches (and other long-running requests) open now: the member's watch count. */
  readonly longRunning: Gauge<ApiLatencyLabel>;
}

export function defineApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, API group, version, resource, subresource, scope and HTTP response code.',
      labelNames: apiRequestLabels, registers,
    }),
    requestDuration: new Histogram({
      name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, group, version, resource, subresource and scope (watches excluded: they are long-running).',
      labelNames: apiLatencyLabels, buckets: [...telemetryLimits.apiRequestBucketsSeconds], registers,
    }),
    longRunning: new Gauge({
      name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests (watches) broken out by verb, group, version, resource, subresource and scope.',
      labelNames: apiLatencyLabels, registers,
    }),
  };
}

export interface StoreMetrics {
  /** A write's life on the member that proposed it: propose → committed and applied here (outcome ok|error). */
  readonly proposalDuration: Histogram<'outcome'>;
  /** One durable LMDB transaction of a Ready (entries, hard state, snapshot, and the applies in it). */
  readonly diskCommitDuration: Histogram;
  /** Applying one Ready's committed entries to the MVCC state machine. */
  readonly applyDuration: Histogram;
  readonly entriesApplied: Counter;
  readonly term: Gauge;
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly leaderChanges: Counter;
}

export function defineStoreMetrics(registry: Registry): StoreMetrics {
  const registers = [registry];
  const buckets = [...telemetryLimits.storeBucketsSeconds];
  return {
    proposalDuration: new Histogram({
      name: 'kubus_store_proposal_duration_seconds', help: 'Time from proposing a write on this member to its being committed and applied here, by outcome.',
      labelNames: ['outcome'], buckets, registers,
    }),
    diskCommitDuration: new Histogram({
      name: 'kubus_store_disk_commit_duration_seconds', help: 'Latency of the durable (fsynced) LMDB transaction that persists a Raft Ready (like etcd_disk_backend_commit_duration_seconds).',
      buckets, registers,
    }),
    applyDuration: new Histogram({
      name: 'kubus_store_apply_duration_seconds', help: 'Time to apply one batch of committed Raft entries to the key-value state machine.', buckets, registers,
    }),
    entriesApplied: new Counter({ name: 'kubus_store_entries_applied_total', help: 'Committed Raft entries applied by this member.', registers }),
    term: new Gauge({ name: 'kubus_store_raft_term', help: 'The Raft term this member is in.', registers }),
    hasLeader: new Gauge({ name: 'kubus_store_has_leader', help: 'Whether this member knows a Raft leader (1) or not (0).', registers }),
    isLeader: new Gauge({ name: 'kubus_store_is_leader', help: 'Whether this member is the Raft leader (1) or not (0).', registers }),
    leaderChanges: new Counter({ name: 'kubus_store_leader_changes_seen_total', help: 'Times this member saw the Raft leader change (including to none).', registers }),
  };
}

export interface RuntimeMetrics {
  readonly operations: Counter<'operation_type'>;
  readonly errors: Counter<'operation_type'>;
  readonly duration: Histogram<'operation_type'>;
}

export function defineRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const registers = [registry];
  const labelNames = ['operation_type'] as const;
  return {
    operations: new Counter({ name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames, registers }),
    errors: new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames, registers }),
    duration: new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds', help: 'Duration in seconds of runtime operations, by operation type.',
      labelNames, buckets: [...telemetryLimits.runtimeBucketsSeconds], registers,
    }),
  };
}

export interface PodMetrics {
  /** First seen by the agent → Running (the kubelet's kubelet_pod_start_duration_seconds). */
  readonly startDuration: Histogram;
  /** First seen by the agent → Ready. */
  readonly readyDuration: Histogram;
  /** The agent's pods by phase, now. */
  readonly byPhase: Gauge<'phase'>;
}

export function definePodMetrics(registry: Registry): PodMetrics {
  const registers = [registry];
  const buckets = [...telemetryLimits.podStartBucketsSeconds];
  return {
    startDuration: new Histogram({
      name: 'kubelet_pod_start_duration_seconds', help: 'Duration in seconds from the agent seeing a pod for the first time to the pod running.', buckets, registers,
    }),
    readyDuration: new Histogram({
      name: 'kubus_pod_ready_duration_seconds', help: 'Duration in seconds from the agent seeing a pod for the first time to the pod being Ready.', buckets, registers,
    }),
    byPhase: new Gauge({ name: 'kubus_node_pods', help: 'Pods this agent runs, by phase (Pending, Running, Succeeded, Failed, Unknown).', labelNames: ['phase'], registers }),
  };
}
