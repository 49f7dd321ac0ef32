/**
 * The Deployment controller's writes to its ReplicaSets: claiming them, keeping the new one's
 * revision annotations in step (Kubernetes' getAllReplicaSetsAndSyncRevision), creating it with
 * the pod-template-hash (a name collision bumps status.collisionCount), scaling and cleanup.
 * Every ReplicaSet write carries the resourceVersion the decision was made on, so a decision taken
 * on a stale cache fails with 409 and is taken again.
 */
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  adoptionPatch, claimDecision, controllerOf, controllerRef, getCondition, isDeleting, isPodActive, releasePatch, selectorMatches,
  type KubeObject,
} from '../../objects/index.js';
import { typedInformer, type TypedInformer } from '../replicaset/index.js';
import { isAlreadyExists, isNotFound } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext } from '../runtime/types.js';
import { deploymentCondition, deploymentStatusChanged, hasProgressDeadline, progressReasons, rfc3339, setDeploymentCondition } from './deployment-status.js';
import { equalIgnoringHash, podTemplateHash, podTemplateHashLabel } from './pod-template-hash.js';
import { findNewReplicaSet, maxRevision, newReplicaSetAnnotations, replicasAnnotationsNeedUpdate, revisionAnnotation, replicaSetsToCleanUp } from './revisions.js';
import { desiredReplicasAnnotation, maxReplicasAnnotation, maxSurge, newReplicaSetSize } from './rollout-math.js';

export const deploymentsOf = (ctx: ControllerContext): TypedInformer<Deployment> => typedInformer(ctx.informers.informer(refs.deployments));
export const replicaSetsOf = (ctx: ControllerContext): TypedInformer<ReplicaSet> => typedInformer(ctx.informers.informer(refs.replicasets));
export const podsOf = (ctx: ControllerContext): TypedInformer<Pod> => typedInformer(ctx.informers.informer(refs.pods));

export function asKubeObject(object: Deployment | ReplicaSet, kind: 'Deployment' | 'ReplicaSet'): KubeObject {
  return { ...object, apiVersion: 'apps/v1', kind } as KubeObject;
}

/** Active pods seen per ReplicaSet name. */
export function activePodsByReplicaSet(ctx: ControllerContext, sets: readonly ReplicaSet[]): Map<string, number> {
  return new Map(sets.map((rs) => [rs.metadata?.name ?? '', podsOf(ctx).byIndex('owner', rs.metadata?.uid ?? '').filter((p) => isPodActive(p)).length]));
}

/** The ReplicaSets the Deployment owns after adopting matching orphans and releasing non-matching ones. */
export async function claimReplicaSets(ctx: ControllerContext, d: Deployment): Promise<ReplicaSet[]> {
  const owner = asKubeObject(d, 'Deployment');
  const owned: ReplicaSet[] = [];
  let adoptable: boolean | undefined;
  for (const rs of replicaSetsOf(ctx).byIndex('namespace', d.metadata?.namespace ?? '')) {
    const decision = claimDecision(owner, rs, selectorMatches(d.spec?.selector, rs.metadata?.labels));
    if (decision === 'own') owned.push(rs);
    if (decision === 'release') await patchReplicaSet(ctx, rs, releasePatch(owner, rs));
    if (decision !== 'adopt') continue;
    adoptable ??= await canAdopt(ctx, d);
    if (!adoptable) continue;
    const adopted = await patchReplicaSet(ctx, rs, adoptionPatch(owner, rs));
    if (adopted !== undefined) owned.push(adopted);
  }
  return owned;
}

async function canAdopt(ctx: ControllerContext, d: Deployment): Promise<boolean> {
  try {
    const fresh = await ctx.api.get<Deployment>(refs.deployments, d.metadata?.namespace, d.metadata?.name ?? '');
    return fresh.metadata?.uid === d.metadata?.uid && !isDeleting(fresh);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function patchReplicaSet(ctx: ControllerContext, rs: ReplicaSet, patch: unknown): Promise<ReplicaSet | undefined> {
  try {
    return await ctx.api.patch<ReplicaSet>(refs.replicasets, rs.metadata?.namespace, rs.metadata?.name ?? '', patch, 'merge');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Writes the status when it changed; returns the Deployment as stored after the write. */
export async function writeStatus(ctx: ControllerContext, d: Deployment, status: DeploymentStatus): Promise<Deployment> {
  if (!deploymentStatusChanged(d.status, status)) return d;
  const body = { status: { ...status, conditions: status.conditions ?? null } };
  return ctx.api.patch<Deployment>(refs.deployments, d.metadata?.namespace, d.metadata?.name ?? '', body, 'merge', { subresource: 'status' });
}

async function setDeploymentRevision(ctx: ControllerContext, d: Deployment, revision: string): Promise<Deployment> {
  if (d.metadata?.annotations?.[revisionAnnotation] === revision) return d;
  const patch = { metadata: { annotations: { [revisionAnnotation]: revision } } };
  return ctx.api.patch<Deployment>(refs.deployments, d.metadata?.namespace, d.metadata?.name ?? '', patch, 'merge');
}

export interface RevisionSync {
  readonly d: Deployment;
  readonly newRs: ReplicaSet | undefined;
  readonly oldSets: ReplicaSet[];
}

/** Kubernetes' getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and the old ones. */
export async function syncRevision(ctx: ControllerContext, d: Deployment, sets: readonly ReplicaSet[], create: boolean): Promise<RevisionSync> {
  const existing = findNewReplicaSet(d, sets);
  const oldSets = sets.filter((rs) => rs !== existing);
  const newRevision = maxRevision(oldSets) + 1;
  if (existing !== undefined) return { ...(await syncExistingNew(ctx, d, existing, newRevision)), oldSets };
  if (!create) return { d, newRs: undefined, oldSets };
  return { ...(await createNewReplicaSet(ctx, d, oldSets, newRevision)), oldSets };
}

async function syncExistingNew(ctx: ControllerContext, d: Deployment, rs: ReplicaSet, newRevision: number): Promise<{ d: Deployment; newRs: ReplicaSet }> {
  const annotations = newReplicaSetAnnotations(d, rs, { newRevision, maxSurge: maxSurge(d) });
  const minReadySeconds = d.spec?.minReadySeconds ?? 0;
  if (JSON.stringify(annotations) !== JSON.stringify(rs.metadata?.annotations ?? {}) || (rs.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
    const body = { ...asKubeObject(rs, 'ReplicaSet'), metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, minReadySeconds } };
    const updated = await ctx.api.update<ReplicaSet>(refs.replicasets, rs.metadata?.namespace, rs.metadata?.name ?? '', body);
    return { d, newRs: updated };
  }
  let current = await setDeploymentRevision(ctx, d, rs.metadata?.annotations?.[revisionAnnotation] ?? String(newRevision));
  if (hasProgressDeadline(current) && getCondition(current.status?.conditions, 'Progressing') === undefined) {
    const found = deploymentCondition('Progressing', 'True', progressReasons.foundNewReplicaSet, `Found new replica set "${rs.metadata?.name ?? ''}"`, rfc3339(Date.now()));
    current = await writeStatus(ctx, current, { ...current.status, conditions: setDeploymentCondition(current.status?.conditions, found) });
  }
  return { d: current, newRs: rs };
}

async function createNewReplicaSet(ctx: ControllerContext, d: Deployment, oldSets: readonly ReplicaSet[], newRevision: number): Promise<{ d: Deployment; newRs: ReplicaSet }> {
  const hash = podTemplateHash(d.spec?.template, d.status?.collisionCount);
  const template = structuredClone(d.spec?.template ?? {});
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [podTemplateHashLabel]: hash } };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, [podTemplateHashLabel]: hash };
  const replicas = newReplicaSetSize(d, oldSets, undefined, activePodsByReplicaSet(ctx, oldSets));
  const name = `${d.metadata?.name ?? ''}-${hash}`;
  const body = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: d.metadata?.namespace, labels: template.metadata.labels,
      annotations: newReplicaSetAnnotations(d, undefined, { newRevision, maxSurge: maxSurge(d) }),
      ownerReferences: [controllerRef(asKubeObject(d, 'Deployment'))],
    },
    spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  let created: ReplicaSet;
  try {
    created = await ctx.api.create<ReplicaSet>(refs.replicasets, d.metadata?.namespace, body);
  } catch (error) {
    if (isAlreadyExists(error)) return adoptOrCollide(ctx, d, name, newRevision, error);
    const message = `Failed to create new replica set "${name}": ${error instanceof Error ? error.message : String(error)}`;
    ctx.events.record(asKubeObject(d, 'Deployment'), 'Warning', 'ReplicaSetCreateError', message);
    if (hasProgressDeadline(d)) {
      const failed = deploymentCondition('Progressing', 'False', 'ReplicaSetCreateError', message, rfc3339(Date.now()));
      await writeStatus(ctx, d, { ...d.status, conditions: setDeploymentCondition(d.status?.conditions, failed) }).catch(() => undefined);
    }
    throw error;
  }
  if (replicas > 0) ctx.events.record(asKubeObject(d, 'Deployment'), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
  let current = await setDeploymentRevision(ctx, d, String(newRevision));
  if (hasProgressDeadline(current)) {
    const condition = deploymentCondition('Progressing', 'True', progressReasons.newReplicaSetCreated, `Created new replica set "${name}"`, rfc3339(Date.now()));
    current = await writeStatus(ctx, current, { ...current.status, conditions: setDeploymentCondition(current.status?.conditions, condition) });
  }
  return { d: current, newRs: created };
}

/**
 * The name is taken: ours with this template (a cache that had not seen it yet) is the new
 * ReplicaSet; anything else is a hash collision, so collisionCount goes up and the next sync
 * hashes again.
 */
async function adoptOrCollide(ctx: ControllerContext, d: Deployment, name: string, newRevision: number, cause: unknown): Promise<{ d: Deployment; newRs: ReplicaSet }> {
  const existing = await ctx.api.get<ReplicaSet>(refs.replicasets, d.metadata?.namespace, name);
  if (controllerOf(existing)?.uid === d.metadata?.uid && equalIgnoringHash(existing.spec?.template, d.spec?.template)) {
    return { d: await setDeploymentRevision(ctx, d, existing.metadata?.annotations?.[revisionAnnotation] ?? String(newRevision)), newRs: existing };
  }
  await writeStatus(ctx, d, { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 });
  throw cause;
}

/**
 * Scales a ReplicaSet (and stamps the desired/max replicas it is sized for); returns the stored
 * ReplicaSet and whether its size changed.
 */
export async function scaleReplicaSet(ctx: ControllerContext, d: Deployment, rs: ReplicaSet, replicas: number): Promise<{ rs: ReplicaSet; scaled: boolean }> {
  const desired = d.spec?.replicas ?? 1;
  const max = desired + maxSurge(d);
  const before = rs.spec?.replicas ?? 0;
  if (before === replicas && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { rs, scaled: false };
  const annotations = { ...rs.metadata?.annotations, [desiredReplicasAnnotation]: String(desired), [maxReplicasAnnotation]: String(max) };
  const body = { ...asKubeObject(rs, 'ReplicaSet'), metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas } };
  const updated = await ctx.api.update<ReplicaSet>(refs.replicasets, rs.metadata?.namespace, rs.metadata?.name ?? '', body);
  if (before !== replicas) {
    const direction = replicas > before ? 'up' : 'down';
    ctx.events.record(asKubeObject(d, 'Deployment'), 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata?.name ?? ''} from ${before} to ${replicas}`);
  }
  return { rs: updated, scaled: before !== replicas };
}

/** Deletes old ReplicaSets beyond revisionHistoryLimit (only empty ones). */
export async function cleanupOldReplicaSets(ctx: ControllerContext, d: Deployment, oldSets: readonly ReplicaSet[]): Promise<void> {
  for (const rs of replicaSetsToCleanUp(d, oldSets)) {
    try {
      await ctx.api.delete(refs.replicasets, rs.metadata?.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid ?? '' } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
