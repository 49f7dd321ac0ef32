/**
 * Revisions, as Kubernetes' deployment util: each ReplicaSet carries the revision at which its
 * template was last the Deployment's (`deployment.kubernetes.io/revision`); a rollback to an old
 * template reuses its ReplicaSet, gives it the next revision and remembers the old one in
 * `revision-history`. `kubectl rollout history|undo` read exactly these annotations.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { deploymentLimits } from './limits.js';
import { equalIgnoringHash } from './pod-template-hash.js';
import { byCreation, desiredReplicasAnnotation, maxReplicasAnnotation } from './rollout-math.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
const rollbackToAnnotation = 'deprecated.deployment.rollback.to';

/** Annotations the Deployment does not hand down to its ReplicaSets (Kubernetes' skipCopyAnnotation). */
const notCopied = new Set([lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation, desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation]);

export function revisionOf(object: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> | undefined } | undefined }): number {
  const raw = object.metadata?.annotations?.[revisionAnnotation];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}

export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** Kubernetes' FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's (hash label aside). */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoringHash(rs.spec?.template, d.spec?.template));
}

/**
 * The annotations a new (or reused) ReplicaSet should carry: the Deployment's own (bar the skipped
 * ones), the revision (raised to `newRevision`, the old one appended to the history when reused),
 * and for a ReplicaSet being created the desired/max replicas it is sized for.
 */
export function newReplicaSetAnnotations(d: Deployment, rs: ReplicaSet | undefined, options: { readonly newRevision: number; readonly maxSurge: number }): Record<string, string> {
  const next: Record<string, string> = { ...rs?.metadata?.annotations };
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (!notCopied.has(k)) next[k] = v;
  const oldRevision = rs?.metadata?.annotations?.[revisionAnnotation];
  const oldNumber = oldRevision !== undefined && /^\d+$/.test(oldRevision) ? Number(oldRevision) : 0;
  if (oldRevision === undefined || oldNumber < options.newRevision) {
    next[revisionAnnotation] = String(options.newRevision);
    if (oldRevision !== undefined && oldRevision !== '' && rs !== undefined) next[revisionHistoryAnnotation] = appendHistory(rs.metadata?.annotations?.[revisionHistoryAnnotation], oldRevision);
  }
  if (rs === undefined) {
    const replicas = d.spec?.replicas ?? 1;
    next[desiredReplicasAnnotation] = String(replicas);
    next[maxReplicasAnnotation] = String(replicas + options.maxSurge);
  }
  return next;
}

function appendHistory(history: string | undefined, revision: string): string {
  const entries = history === undefined || history === '' ? [] : history.split(',');
  entries.push(revision);
  // Oldest entries go first when the annotation would outgrow its bound.
  while (entries.join(',').length > deploymentLimits.revisionHistoryCharsMax && entries.length > 1) entries.shift();
  return entries.join(',');
}

/** Do a ReplicaSet's desired/max annotations differ from what the Deployment now asks? */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[desiredReplicasAnnotation] !== String(desired) || a[maxReplicasAnnotation] !== String(max);
}

/**
 * Kubernetes' cleanupDeployment: the old ReplicaSets to delete beyond revisionHistoryLimit, lowest
 * revision first, only those scaled to zero with no pods and a status that saw their last spec.
 */
export function replicaSetsToCleanUp(d: Deployment, oldSets: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return [];
  const alive = oldSets.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
  const excess = alive.length - limit;
  if (excess <= 0) return [];
  const ordered = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return ordered.slice(0, excess).filter((rs) =>
    (rs.status?.replicas ?? 0) === 0 && (rs.spec?.replicas ?? 0) === 0 && (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}
