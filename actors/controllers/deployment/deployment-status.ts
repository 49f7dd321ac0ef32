/**
 * A Deployment's status and conditions, as Kubernetes' deployment controller computes them: counts
 * from its ReplicaSets, Available from minimum availability, and Progressing through its reasons
 * (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
 * ProgressDeadlineExceeded, DeploymentPaused / DeploymentResumed). `kubectl rollout status` reads
 * exactly these fields.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { getCondition, removeCondition } from '../../objects/index.js';
import { maxUnavailable, totalReplicas } from './rollout-math.js';

export const progressReasons = {
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
} as const;

/** Kubernetes uses MaxInt32 for "no deadline". */
const noDeadline = 2 ** 31 - 1;

export function hasProgressDeadline(d: Deployment): boolean {
  const seconds = d.spec?.progressDeadlineSeconds;
  return seconds !== undefined && seconds !== noDeadline;
}

export function deploymentCondition(type: string, status: string, reason: string, message: string, now: string): DeploymentCondition {
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/**
 * Kubernetes' SetDeploymentCondition: a condition with the same status and reason is left as it
 * is (its times included); one with the same status keeps its lastTransitionTime.
 */
export function setDeploymentCondition(conditions: readonly DeploymentCondition[] | undefined, next: DeploymentCondition): DeploymentCondition[] {
  const current = getCondition(conditions, next.type);
  if (current !== undefined && current.status === next.status && current.reason === next.reason) return [...(conditions ?? [])];
  const kept = current !== undefined && current.status === next.status ? keepTransition(next, current) : next;
  return [...removeCondition(conditions, next.type), kept];
}

function keepTransition(next: DeploymentCondition, current: DeploymentCondition): DeploymentCondition {
  return current.lastTransitionTime === undefined ? next : { ...next, lastTransitionTime: current.lastTransitionTime };
}

const actual = (sets: readonly (ReplicaSet | undefined)[]): number => sets.reduce((sum, rs) => sum + (rs?.status?.replicas ?? 0), 0);
const ready = (sets: readonly (ReplicaSet | undefined)[]): number => sets.reduce((sum, rs) => sum + (rs?.status?.readyReplicas ?? 0), 0);

/** Kubernetes' calculateStatus: counts and the Available condition; other conditions carried over. */
export function calculateStatus(d: Deployment, allSets: readonly (ReplicaSet | undefined)[], newRs: ReplicaSet | undefined, now: string): DeploymentStatus {
  const available = allSets.reduce((sum, rs) => sum + (rs?.status?.availableReplicas ?? 0), 0);
  const status: DeploymentStatus = {
    ...(d.metadata?.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
    replicas: actual(allSets),
    updatedReplicas: actual([newRs]),
    readyReplicas: ready(allSets),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, totalReplicas(allSets) - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  const minimum = (d.spec?.replicas ?? 1) - maxUnavailable(d);
  const availableCondition = available >= minimum
    ? deploymentCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now)
    : deploymentCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now);
  status.conditions = setDeploymentCondition(d.status?.conditions, availableCondition);
  return status;
}

/** Kubernetes' DeploymentComplete: every replica updated and available, the latest generation observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus | undefined): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return (status?.updatedReplicas ?? 0) === replicas && (status?.replicas ?? 0) === replicas && (status?.availableReplicas ?? 0) === replicas &&
    (status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Kubernetes' DeploymentProgressing: more updated, ready or available pods, or fewer old ones, than last recorded. */
export function deploymentProgressing(d: Deployment, next: DeploymentStatus): boolean {
  const before = d.status ?? {};
  const oldBefore = (before.replicas ?? 0) - (before.updatedReplicas ?? 0);
  const oldNow = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (next.updatedReplicas ?? 0) > (before.updatedReplicas ?? 0) || oldNow < oldBefore ||
    (next.readyReplicas ?? 0) > (before.readyReplicas ?? 0) || (next.availableReplicas ?? 0) > (before.availableReplicas ?? 0);
}

/** Kubernetes' DeploymentTimedOut: no progress recorded for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status.conditions, 'Progressing');
  if (condition === undefined || condition.reason === progressReasons.newReplicaSetAvailable) return false;
  if (condition.reason === progressReasons.timedOut) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/**
 * Kubernetes' syncRolloutStatus minus the write: the status with Progressing advanced (complete,
 * progressing, or timed out) and the new ReplicaSet's ReplicaFailure carried over.
 */
export function rolloutStatus(d: Deployment, allSets: readonly (ReplicaSet | undefined)[], newRs: ReplicaSet | undefined, options: { readonly nowMs: number }): DeploymentStatus {
  const now = rfc3339(options.nowMs);
  const status = calculateStatus(d, allSets, newRs, now);
  if (!hasProgressDeadline(d)) status.conditions = removeCondition(status.conditions, 'Progressing');
  const current = getCondition(d.status?.conditions, 'Progressing');
  const complete = status.replicas === status.updatedReplicas && current?.reason === progressReasons.newReplicaSetAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const rsName = newRs?.metadata?.name ?? '';
    if (deploymentComplete(d, status)) {
      status.conditions = setDeploymentCondition(status.conditions,
        deploymentCondition('Progressing', 'True', progressReasons.newReplicaSetAvailable, `ReplicaSet "${rsName}" has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      const message = newRs !== undefined ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata?.name ?? ''}" is progressing.`;
      const next = deploymentCondition('Progressing', 'True', progressReasons.replicaSetUpdated, message, now);
      // Progress moves lastUpdateTime even with the same reason: that is what the deadline counts from.
      const kept = current?.status === 'True' ? keepTransition(next, current) : next;
      status.conditions = [...removeCondition(status.conditions, 'Progressing'), kept];
    } else if (deploymentTimedOut(d, status, options.nowMs)) {
      status.conditions = setDeploymentCondition(status.conditions,
        deploymentCondition('Progressing', 'False', progressReasons.timedOut, `ReplicaSet "${rsName}" has timed out progressing.`, now));
    }
  }
  const failure = newRs === undefined ? undefined : getCondition(newRs.status?.conditions, 'ReplicaFailure');
  status.conditions = failure !== undefined && failure.status === 'True'
    ? setDeploymentCondition(status.conditions, deploymentCondition('ReplicaFailure', failure.status, failure.reason ?? '', failure.message ?? '', now))
    : removeCondition(status.conditions, 'ReplicaFailure');
  return status;
}

/**
 * Kubernetes' requeueStuckDeployment: when to look again so ProgressDeadlineExceeded is reported
 * on time even if nothing else happens (undefined: no need).
 */
export function stuckRecheckMs(d: Deployment, status: DeploymentStatus, nowMs: number): number | undefined {
  const condition = getCondition(status.conditions, 'Progressing');
  if (!hasProgressDeadline(d) || condition === undefined || condition.status !== 'True') return undefined;
  if (condition.reason === progressReasons.newReplicaSetAvailable || deploymentComplete(d, status)) return undefined;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (!Number.isFinite(from)) return undefined;
  const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return after < 1000 ? 0 : after + 1000;
}

/**
 * Kubernetes' checkPausedConditions: the Progressing condition a pause or resume sets (undefined:
 * nothing to change). A reported timeout is not overwritten.
 */
export function pausedCondition(d: Deployment, nowMs: number): DeploymentCondition | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const current = getCondition(d.status?.conditions, 'Progressing');
  if (current?.reason === progressReasons.timedOut) return undefined;
  const pausedShown = current?.reason === progressReasons.paused;
  const now = rfc3339(nowMs);
  if (d.spec?.paused === true && !pausedShown) return deploymentCondition('Progressing', 'Unknown', progressReasons.paused, 'Deployment is paused', now);
  if (d.spec?.paused !== true && pausedShown) return deploymentCondition('Progressing', 'Unknown', progressReasons.resumed, 'Deployment is resumed', now);
  return undefined;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Is a status write worth it: anything but the Available condition's times differs? */
export function deploymentStatusChanged(previous: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  return JSON.stringify(normalize(previous ?? {})) !== JSON.stringify(normalize(next));
}

function normalize(status: DeploymentStatus): unknown {
  return {
    observedGeneration: status.observedGeneration ?? 0, replicas: status.replicas ?? 0, updatedReplicas: status.updatedReplicas ?? 0,
    readyReplicas: status.readyReplicas ?? 0, availableReplicas: status.availableReplicas ?? 0, unavailableReplicas: status.unavailableReplicas ?? 0,
    collisionCount: status.collisionCount ?? 0,
    conditions: [...(status.conditions ?? [])].sort((a, b) => a.type.localeCompare(b.type)).map((c) => [c.type, c.status, c.reason, c.message, c.lastUpdateTime, c.lastTransitionTime]),
  };
}
