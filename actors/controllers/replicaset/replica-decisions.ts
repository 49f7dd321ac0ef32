/**
 * The ReplicaSet controller's decisions as pure functions (objects in, numbers and lists out):
 * how many pods to create or delete, in which slow-start batches, which pods go first, and the
 * status the ReplicaSet reports. The controller file only reads informers and performs them.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { controllerRef, getCondition, isPodAvailable, isPodReady, removeCondition, setCondition } from '../../objects/index.js';

export type ReplicaDiff =
  | { readonly action: 'create'; readonly count: number }
  | { readonly action: 'delete'; readonly count: number }
  | { readonly action: 'none' };

/** Create or delete how many, given the active pods and the desired count, capped at a burst per sync. */
export function replicaDiff(activePods: number, desired: number, burstMax: number): ReplicaDiff {
  const diff = activePods - desired;
  if (diff < 0) return { action: 'create', count: Math.min(-diff, burstMax) };
  if (diff > 0) return { action: 'delete', count: Math.min(diff, burstMax) };
  return { action: 'none' };
}

/**
 * Slow start: batches of 1, 2, 4, ... summing to `total`, so a create that fails (quota, admission)
 * fails once or twice instead of `total` times; the caller stops at the first batch with an error.
 */
export function slowStartBatches(total: number, initial: number): number[] {
  const batches: number[] = [];
  let remaining = total;
  let size = Math.min(remaining, initial);
  while (size > 0) {
    batches.push(size);
    remaining -= size;
    size = Math.min(2 * size, remaining);
  }
  return batches;
}

const phaseOrdinal: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };
const deletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: Pod): number {
  const raw = pod.metadata?.annotations?.[deletionCostAnnotation];
  const value = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(value) ? value : 0;
}

function readySinceMs(pod: Pod): number {
  const since = getCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime;
  return since === undefined ? 0 : Date.parse(since) || 0;
}

function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((s) => s.restartCount));
}

function createdMs(pod: Pod): number {
  const at = pod.metadata?.creationTimestamp;
  return at === undefined ? 0 : Date.parse(at) || 0;
}

interface RankedPod {
  readonly pod: Pod;
  /** Related pods (this ReplicaSet's and its siblings') on the same node: more means delete first. */
  readonly rank: number;
}

/**
 * Kubernetes' ActivePodsWithRanks order: which pod to delete first. Negative when `a` goes first.
 * Unassigned before assigned; Pending < Unknown < Running; not ready before ready; lower
 * pod-deletion-cost first; pods doubled up on a node first; ready for less time first; more
 * restarts first; newer before older. Ties fall back to the name so the order is total.
 */
export function compareForDeletion(a: RankedPod, b: RankedPod): number {
  const aAssigned = (a.pod.spec?.nodeName ?? '') !== '';
  const bAssigned = (b.pod.spec?.nodeName ?? '') !== '';
  if (aAssigned !== bAssigned) return aAssigned ? 1 : -1;
  const phase = (phaseOrdinal[a.pod.status?.phase ?? ''] ?? 0) - (phaseOrdinal[b.pod.status?.phase ?? ''] ?? 0);
  if (phase !== 0) return phase;
  const aReady = isPodReady(a.pod);
  const bReady = isPodReady(b.pod);
  if (aReady !== bReady) return aReady ? 1 : -1;
  const cost = deletionCost(a.pod) - deletionCost(b.pod);
  if (cost !== 0) return cost;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (aReady && bReady) {
    const readySince = readySinceMs(b.pod) - readySinceMs(a.pod);
    if (readySince !== 0) return readySince;
  }
  const restarts = maxRestarts(b.pod) - maxRestarts(a.pod);
  if (restarts !== 0) return restarts;
  const created = createdMs(b.pod) - createdMs(a.pod);
  if (created !== 0) return created;
  return (a.pod.metadata?.name ?? '').localeCompare(b.pod.metadata?.name ?? '');
}

/**
 * The `count` pods to delete among `pods`, ranked against `relatedPods` (the active pods of every
 * ReplicaSet of the same Deployment, or of this ReplicaSet alone) so scale-down spreads across nodes.
 */
export function podsToDelete(pods: readonly Pod[], relatedPods: readonly Pod[], count: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const pod of relatedPods) {
    const node = pod.spec?.nodeName ?? '';
    if (node !== '') onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  return ranked.sort(compareForDeletion).slice(0, count).map((r) => r.pod);
}

/** A pod as the ReplicaSet creates it from its template: generateName `<rs>-`, the controllerRef. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const template: PodTemplateSpec = rs.spec?.template ?? {};
  const name = rs.metadata?.name ?? '';
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace: rs.metadata?.namespace ?? 'default',
      labels: { ...meta.labels },
      ...(meta.annotations !== undefined ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers !== undefined ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata ?? {} })],
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
}

/** Does the pod carry every label of the template (Kubernetes' fullyLabeledReplicas)? */
export function isFullyLabeled(pod: Pod, templateLabels: Readonly<Record<string, string>>): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(templateLabels).every(([k, v]) => labels[k] === v);
}

export interface ManageFailure {
  /** Creates failed (FailedCreate) or deletes did (FailedDelete). */
  readonly reason: 'FailedCreate' | 'FailedDelete';
  readonly message: string;
}

/**
 * The status for the active pods the ReplicaSet owns, as Kubernetes' calculateStatus: counts,
 * observedGeneration, and a ReplicaFailure condition set on a failed create/delete and removed on
 * the next sync that succeeds.
 */
export function replicaSetStatus(rs: ReplicaSet, activePods: readonly Pod[], options: { readonly nowMs: number; readonly failure: ManageFailure | undefined }): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const existing = getCondition(conditions, 'ReplicaFailure');
  if (options.failure !== undefined && existing === undefined) {
    conditions = setCondition(conditions, { type: 'ReplicaFailure', status: 'True', reason: options.failure.reason, message: options.failure.message },
      new Date(options.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  } else if (options.failure === undefined && existing !== undefined) {
    conditions = removeCondition(conditions, 'ReplicaFailure');
  }
  return {
    replicas: activePods.length,
    fullyLabeledReplicas: activePods.filter((p) => isFullyLabeled(p, templateLabels)).length,
    readyReplicas: activePods.filter((p) => isPodReady(p)).length,
    availableReplicas: activePods.filter((p) => isPodAvailable(p, minReadySeconds, options.nowMs)).length,
    ...(rs.metadata?.generation !== undefined ? { observedGeneration: rs.metadata.generation } : {}),
    ...(conditions.length > 0 ? { conditions } : {}),
  };
}

/** Has anything the status shows changed (so a write is worth it)? */
export function statusChanged(previous: ReplicaSetStatus | undefined, next: ReplicaSetStatus): boolean {
  const p = previous ?? { replicas: 0 };
  return (p.replicas ?? 0) !== next.replicas || (p.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0) ||
    (p.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) || (p.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    p.observedGeneration !== next.observedGeneration || JSON.stringify(p.conditions ?? []) !== JSON.stringify(next.conditions ?? []);
}

/**
 * When to look again for availability: ready pods that are not yet available become so once
 * minReadySeconds have passed since they turned ready (Kubernetes requeues after minReadySeconds).
 */
export function availabilityRecheckMs(rs: ReplicaSet, status: ReplicaSetStatus): number | undefined {
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  if (minReadySeconds <= 0) return undefined;
  if ((status.readyReplicas ?? 0) === (status.availableReplicas ?? 0)) return undefined;
  return minReadySeconds * 1000;
}
