/**
 * The Deployment controller: rolls a Deployment's pods from ReplicaSet to ReplicaSet (RollingUpdate
 * within maxSurge / maxUnavailable, or Recreate), scales proportionally, honours pause, keeps
 * revisions for `kubectl rollout history|undo`, and reports progress in status for `kubectl
 * rollout status`. The shape is Kubernetes' syncDeployment; the arithmetic is rollout-math.ts, the
 * status deployment-status.ts, the ReplicaSet writes replica-set-writes.ts.
 *
 * Decision: one step per sync, as Kubernetes: a sync that scaled something writes status and
 * returns; the ReplicaSet and pod events it causes bring the next sync. Progress therefore never
 * runs ahead of what the informers have shown.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerOf, isDeleting, objectKey, selectorMatches, type OwnerReference } from '../../objects/index.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, ReconcileResult, WorkQueue } from '../runtime/types.js';
import { calculateStatus, deploymentComplete, pausedCondition, rfc3339, rolloutStatus, setDeploymentCondition, stuckRecheckMs } from './deployment-status.js';
import { findNewReplicaSet } from './revisions.js';
import { activeReplicaSets, newReplicaSetSize, oldReplicaSetsScaleDown, scaleTargets, isScalingEvent, isRollingUpdate } from './rollout-math.js';
import {
  activePodsByReplicaSet, asKubeObject, claimReplicaSets, cleanupOldReplicaSets, deploymentsOf, podsOf, replicaSetsOf, scaleReplicaSet, syncRevision, writeStatus,
} from './replica-set-writes.js';

type SyncResult = ReconcileResult | void;

function replace(sets: readonly ReplicaSet[], updated: ReplicaSet): ReplicaSet[] {
  return sets.map((rs) => (rs.metadata?.name === updated.metadata?.name ? updated : rs));
}

async function syncRolloutStatus(ctx: ControllerContext, d: Deployment, allSets: readonly ReplicaSet[], newRs: ReplicaSet | undefined): Promise<SyncResult> {
  const nowMs = Date.now();
  const status = rolloutStatus(d, allSets, newRs, { nowMs });
  const stored = await writeStatus(ctx, d, status);
  const recheckMs = stuckRecheckMs(stored, status, nowMs);
  return recheckMs === undefined ? undefined : { requeueAfterMs: recheckMs };
}

async function rolloutRolling(ctx: ControllerContext, deployment: Deployment, sets: readonly ReplicaSet[]): Promise<SyncResult> {
  const { d, newRs: synced, oldSets } = await syncRevision(ctx, deployment, sets, true);
  if (synced === undefined) return;
  let newRs = synced;
  const replicas = d.spec?.replicas ?? 1;
  const newSize = newRs.spec?.replicas ?? 0;
  if (newSize !== replicas) {
    const target = newSize > replicas ? replicas : newReplicaSetSize(d, [...oldSets, newRs], newRs, activePodsByReplicaSet(ctx, [...oldSets, newRs]));
    const scaled = await scaleReplicaSet(ctx, d, newRs, target);
    newRs = scaled.rs;
    if (scaled.scaled) return syncRolloutStatus(ctx, d, [...oldSets, newRs], newRs);
  }
  let olds = oldSets;
  const targets = oldReplicaSetsScaleDown(d, activeReplicaSets(oldSets), newRs);
  for (const target of targets) {
    const rs = olds.find((s) => s.metadata?.name === target.name);
    if (rs === undefined) continue;
    olds = replace(olds, (await scaleReplicaSet(ctx, d, rs, target.replicas)).rs);
  }
  if (targets.length > 0) return syncRolloutStatus(ctx, d, [...olds, newRs], newRs);
  if (deploymentComplete(d, d.status)) await cleanupOldReplicaSets(ctx, d, olds);
  return syncRolloutStatus(ctx, d, [...olds, newRs], newRs);
}

/** Kubernetes' oldPodsRunning: Recreate waits until no pod of an old ReplicaSet may still run. */
function oldPodsRunning(ctx: ControllerContext, newRs: ReplicaSet | undefined, oldSets: readonly ReplicaSet[]): boolean {
  if (oldSets.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
  return oldSets.some((rs) => rs.metadata?.uid !== newRs?.metadata?.uid && podsOf(ctx).byIndex('owner', rs.metadata?.uid ?? '')
    .some((pod) => pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded'));
}

async function rolloutRecreate(ctx: ControllerContext, deployment: Deployment, sets: readonly ReplicaSet[]): Promise<SyncResult> {
  let { d, newRs, oldSets } = await syncRevision(ctx, deployment, sets, false);
  let scaledDown = false;
  for (const rs of activeReplicaSets(oldSets)) {
    const result = await scaleReplicaSet(ctx, d, rs, 0);
    oldSets = replace(oldSets, result.rs);
    scaledDown ||= result.scaled;
  }
  if (scaledDown || oldPodsRunning(ctx, newRs, oldSets)) return syncRolloutStatus(ctx, d, [...oldSets, ...(newRs ? [newRs] : [])], newRs);
  if (newRs === undefined) ({ d, newRs, oldSets } = await syncRevision(ctx, d, sets, true));
  if (newRs === undefined) return;
  newRs = (await scaleReplicaSet(ctx, d, newRs, d.spec?.replicas ?? 1)).rs;
  if (deploymentComplete(d, d.status)) await cleanupOldReplicaSets(ctx, d, oldSets);
  return syncRolloutStatus(ctx, d, [...oldSets, newRs], newRs);
}

/** Kubernetes' sync: a scaling event or a paused Deployment; sizes change, the template does not roll. */
async function syncScale(ctx: ControllerContext, deployment: Deployment, sets: readonly ReplicaSet[]): Promise<SyncResult> {
  const { d, newRs, oldSets } = await syncRevision(ctx, deployment, sets, false);
  let all = [...oldSets, ...(newRs ? [newRs] : [])];
  for (const target of scaleTargets(d, newRs, oldSets)) {
    const rs = all.find((s) => s.metadata?.name === target.name);
    if (rs !== undefined) all = replace(all, (await scaleReplicaSet(ctx, d, rs, target.replicas)).rs);
  }
  const currentNew = newRs === undefined ? undefined : all.find((s) => s.metadata?.name === newRs.metadata?.name);
  const currentOld = all.filter((s) => s !== currentNew);
  if (d.spec?.paused === true) await cleanupOldReplicaSets(ctx, d, currentOld);
  await writeStatus(ctx, d, calculateStatus(d, all, currentNew, rfc3339(Date.now())));
}

function selectsEverything(d: Deployment): boolean {
  const selector = d.spec?.selector;
  return Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0;
}

async function syncDeployment(key: string, ctx: ControllerContext): Promise<SyncResult> {
  const cached = deploymentsOf(ctx).get(key);
  if (cached === undefined) return;
  let d: Deployment = structuredClone(cached);
  if (selectsEverything(d)) {
    ctx.events.record(asKubeObject(d, 'Deployment'), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
    if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) await writeStatus(ctx, d, { ...d.status, observedGeneration: d.metadata?.generation ?? 0 });
    return;
  }
  const sets = await claimReplicaSets(ctx, d);
  if (isDeleting(d)) {
    const newRs = findNewReplicaSet(d, sets);
    await writeStatus(ctx, d, calculateStatus(d, sets, newRs, rfc3339(Date.now())));
    return;
  }
  const paused = pausedCondition(d, Date.now());
  if (paused !== undefined) d = await writeStatus(ctx, d, { ...d.status, conditions: setDeploymentCondition(d.status?.conditions, paused) });
  if (d.spec?.paused === true) return syncScale(ctx, d, sets);
  const newRs = findNewReplicaSet(d, sets);
  if (isScalingEvent(d, [...sets.filter((rs) => rs !== newRs), newRs])) return syncScale(ctx, d, sets);
  return isRollingUpdate(d) ? rolloutRolling(ctx, d, sets) : rolloutRecreate(ctx, d, sets);
}

function ownerDeployment(ctx: ControllerContext, namespace: string, ref: OwnerReference | undefined): Deployment | undefined {
  if (ref === undefined || ref.kind !== 'Deployment') return undefined;
  const d = deploymentsOf(ctx).get(`${namespace}/${ref.name}`);
  return d?.metadata?.uid === ref.uid ? d : undefined;
}

function enqueueOwner(ctx: ControllerContext, queue: WorkQueue, rs: ReplicaSet, ref: OwnerReference | undefined = controllerOf(rs)): void {
  const d = ownerDeployment(ctx, rs.metadata?.namespace ?? '', ref);
  if (d !== undefined) queue.add(objectKey(d));
}

function enqueueMatching(ctx: ControllerContext, queue: WorkQueue, rs: ReplicaSet): void {
  for (const d of deploymentsOf(ctx).byIndex('namespace', rs.metadata?.namespace ?? '')) {
    if (selectorMatches(d.spec?.selector, rs.metadata?.labels)) queue.add(objectKey(d));
  }
}

function watchReplicaSets(ctx: ControllerContext, queue: WorkQueue): () => void {
  return replicaSetsOf(ctx).addHandlers({
    onAdd: (rs) => (controllerOf(rs) === undefined && !isDeleting(rs) ? enqueueMatching(ctx, queue, rs) : enqueueOwner(ctx, queue, rs)),
    onUpdate: (previous, rs) => {
      if (previous.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
      const ref = controllerOf(rs);
      const previousRef = controllerOf(previous);
      if (previousRef !== undefined && previousRef.uid !== ref?.uid) enqueueOwner(ctx, queue, previous, previousRef);
      if (ref !== undefined) return enqueueOwner(ctx, queue, rs, ref);
      if (JSON.stringify(previous.metadata?.labels ?? {}) !== JSON.stringify(rs.metadata?.labels ?? {}) || previousRef !== undefined) enqueueMatching(ctx, queue, rs);
    },
    onDelete: (rs) => enqueueOwner(ctx, queue, rs),
  });
}

/** A pod gone: Recreate waits for the last old pod, RollingUpdate's surge bound for pods being deleted. */
function watchPods(ctx: ControllerContext, queue: WorkQueue): () => void {
  const podGone = (pod: Pod): void => {
    const ref = controllerOf(pod);
    if (ref === undefined || ref.kind !== 'ReplicaSet') return;
    const rs = replicaSetsOf(ctx).get(`${pod.metadata?.namespace ?? ''}/${ref.name}`);
    if (rs !== undefined && rs.metadata?.uid === ref.uid) enqueueOwner(ctx, queue, rs);
  };
  return podsOf(ctx).addHandlers({
    onUpdate: (previous, pod) => {
      if (!isDeleting(previous) && isDeleting(pod)) podGone(pod);
    },
    onDelete: podGone,
  });
}

export const deploymentController: ControllerSpec = {
  name: 'deployment',
  workers: 5,
  resource: refs.deployments,
  watch(ctx, queue) {
    const offDeployments = deploymentsOf(ctx).addHandlers({
      onAdd: (d) => queue.add(objectKey(d)),
      onUpdate: (_previous, d) => queue.add(objectKey(d)),
      onDelete: (d) => queue.add(objectKey(d)),
    });
    const offReplicaSets = watchReplicaSets(ctx, queue);
    const offPods = watchPods(ctx, queue);
    return () => {
      offDeployments();
      offReplicaSets();
      offPods();
    };
  },
  reconcile: (key, ctx) => syncDeployment(key, ctx),
};
