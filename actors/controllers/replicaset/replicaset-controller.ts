/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods for each ReplicaSet. Decisions are in
 * replica-decisions.ts; this file reads the informers, claims pods (adopt / release), creates in
 * slow-start batches or deletes the best-ranked pods, and writes the status.
 *
 * Decision: expectations (expectations.ts) gate every create/delete: after a sync asks for pods,
 * the next sync of that ReplicaSet only writes status until the informer has shown them, so a slow
 * watch never double-creates. State lives per activation (made in `watch`), so a member that loses
 * and regains the Lease starts with no stale expectations.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  adoptionPatch, claimDecision, controllerOf, isDeleting, isPodActive, objectKey, releasePatch, selectorMatches, splitKey,
  type KubeObject, type OwnerReference,
} from '../../objects/index.js';
import { isNotFound } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, ReconcileResult, WorkQueue } from '../runtime/types.js';
import { typedInformer, type TypedInformer } from './typed-informer.js';
import { Expectations } from './expectations.js';
import { replicaSetLimits } from './limits.js';
import {
  availabilityRecheckMs, podFromTemplate, podsToDelete, replicaDiff, replicaSetStatus, slowStartBatches, statusChanged, type ManageFailure,
} from './replica-decisions.js';

interface ReplicaSetState {
  readonly expectations: Expectations;
}

const states = new WeakMap<ControllerContext, ReplicaSetState>();

function stateOf(ctx: ControllerContext): ReplicaSetState {
  let state = states.get(ctx);
  if (state === undefined) {
    state = { expectations: new Expectations(ctx.clock) };
    states.set(ctx, state);
  }
  return state;
}

const replicaSets = (ctx: ControllerContext): TypedInformer<ReplicaSet> => typedInformer(ctx.informers.informer(refs.replicasets));
const pods = (ctx: ControllerContext): TypedInformer<Pod> => typedInformer(ctx.informers.informer(refs.pods));

/** The ReplicaSet a controllerRef names, if it is still that object (same uid). */
function resolveOwner(ctx: ControllerContext, namespace: string, ref: OwnerReference | undefined): ReplicaSet | undefined {
  if (ref === undefined || ref.kind !== 'ReplicaSet') return undefined;
  const rs = replicaSets(ctx).get(`${namespace}/${ref.name}`);
  return rs?.metadata?.uid === ref.uid ? rs : undefined;
}

function enqueueMatching(ctx: ControllerContext, queue: WorkQueue, pod: Pod): void {
  const namespace = pod.metadata?.namespace ?? '';
  for (const rs of replicaSets(ctx).byIndex('namespace', namespace)) {
    if (selectorMatches(rs.spec?.selector, pod.metadata?.labels)) queue.add(objectKey(rs));
  }
}

function watchPods(ctx: ControllerContext, queue: WorkQueue, state: ReplicaSetState): () => void {
  const podDeleted = (pod: Pod): void => {
    const rs = resolveOwner(ctx, pod.metadata?.namespace ?? '', controllerOf(pod));
    if (rs === undefined) return;
    state.expectations.deletionObserved(objectKey(rs), objectKey(pod));
    queue.add(objectKey(rs));
  };
  return pods(ctx).addHandlers({
    onAdd: (pod) => {
      // A pod already being deleted when first seen counts as a deletion, as in Kubernetes' addPod.
      if (isDeleting(pod)) return podDeleted(pod);
      const ref = controllerOf(pod);
      if (ref === undefined) return enqueueMatching(ctx, queue, pod);
      const rs = resolveOwner(ctx, pod.metadata?.namespace ?? '', ref);
      if (rs === undefined) return;
      state.expectations.creationObserved(objectKey(rs));
      queue.add(objectKey(rs));
    },
    onUpdate: (previous, pod) => {
      if (previous.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
      const labelsChanged = JSON.stringify(previous.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
      if (isDeleting(pod)) {
        podDeleted(pod);
        if (labelsChanged) podDeleted(previous);
        return;
      }
      const ref = controllerOf(pod);
      const previousRef = controllerOf(previous);
      const refChanged = ref?.uid !== previousRef?.uid;
      if (refChanged && previousRef !== undefined) {
        const old = resolveOwner(ctx, previous.metadata?.namespace ?? '', previousRef);
        if (old !== undefined) queue.add(objectKey(old));
      }
      if (ref !== undefined) {
        const rs = resolveOwner(ctx, pod.metadata?.namespace ?? '', ref);
        if (rs !== undefined) queue.add(objectKey(rs));
        return;
      }
      if (labelsChanged || refChanged) enqueueMatching(ctx, queue, pod);
    },
    onDelete: podDeleted,
  });
}

/** The active pods the ReplicaSet owns after adopting matching orphans and releasing non-matching pods. */
async function claimPods(ctx: ControllerContext, rs: ReplicaSet, candidates: readonly Pod[]): Promise<Pod[]> {
  const owner = { ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const owned: Pod[] = [];
  let adoptable: boolean | undefined;
  for (const pod of candidates) {
    const decision = claimDecision(owner, pod, selectorMatches(rs.spec?.selector, pod.metadata?.labels));
    if (decision === 'own') owned.push(pod);
    if (decision === 'release') await patchPod(ctx, pod, releasePatch(owner, pod));
    if (decision !== 'adopt') continue;
    // Kubernetes re-reads the owner before adopting: a ReplicaSet deleted (or replaced) since the
    // informer saw it must not take pods.
    adoptable ??= await canAdopt(ctx, rs);
    if (!adoptable) continue;
    const adopted = await patchPod(ctx, pod, adoptionPatch(owner, pod));
    if (adopted !== undefined) owned.push(adopted);
  }
  return owned;
}

async function canAdopt(ctx: ControllerContext, rs: ReplicaSet): Promise<boolean> {
  try {
    const fresh = await ctx.api.get<ReplicaSet>(refs.replicasets, rs.metadata?.namespace, rs.metadata?.name ?? '');
    return fresh.metadata?.uid === rs.metadata?.uid && !isDeleting(fresh);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function patchPod(ctx: ControllerContext, pod: Pod, patch: unknown): Promise<Pod | undefined> {
  try {
    return await ctx.api.patch<Pod>(refs.pods, pod.metadata?.namespace, pod.metadata?.name ?? '', patch, 'merge');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates or deletes toward spec.replicas; returns the failure to report in status, if any. */
async function manageReplicas(ctx: ControllerContext, rs: ReplicaSet, owned: readonly Pod[], state: ReplicaSetState): Promise<ManageFailure | undefined> {
  const key = objectKey(rs);
  const diff = replicaDiff(owned.length, rs.spec?.replicas ?? 1, replicaSetLimits.burstReplicasMax);
  if (diff.action === 'create') return createPods(ctx, rs, diff.count, state);
  if (diff.action === 'none') return undefined;
  const related = relatedPods(ctx, rs);
  const victims = podsToDelete(owned, related, diff.count);
  state.expectations.expectDeletions(key, victims.map((p) => objectKey(p)));
  const results = await Promise.allSettled(victims.map(async (pod) => {
    try {
      await ctx.api.delete(refs.pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid ?? '' } });
    } catch (error) {
      // A delete that failed will never be observed; a pod already gone was (or will be) observed.
      state.expectations.deletionObserved(key, objectKey(pod));
      if (!isNotFound(error)) throw error;
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return undefined;
  ctx.events.record(asObject(rs), 'Warning', 'FailedDelete', `Error deleting: ${messageOf(failed.reason)}`);
  return { reason: 'FailedDelete', message: messageOf(failed.reason) };
}

async function createPods(ctx: ControllerContext, rs: ReplicaSet, count: number, state: ReplicaSetState): Promise<ManageFailure | undefined> {
  const key = objectKey(rs);
  state.expectations.expectCreations(key, count);
  let created = 0;
  for (const batch of slowStartBatches(count, replicaSetLimits.slowStartInitialBatch)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => ctx.api.create<Pod>(refs.pods, rs.metadata?.namespace, podFromTemplate(rs))));
    for (const result of results) {
      if (result.status === 'fulfilled') {
        ctx.events.record(asObject(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata?.name ?? ''}`);
        continue;
      }
      // A create that failed will never be observed.
      state.expectations.creationObserved(key);
    }
    created += batch;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed === undefined) continue;
    // Stop at the first failing batch; the creates never attempted will never be observed either.
    state.expectations.creationObserved(key, count - created);
    const message = messageOf(failed.reason);
    ctx.events.record(asObject(rs), 'Warning', 'FailedCreate', `Error creating: ${message}`);
    return { reason: 'FailedCreate', message };
  }
  return undefined;
}

/** Active pods of every ReplicaSet of the same Deployment (or this one alone): the spread ranking's view. */
function relatedPods(ctx: ControllerContext, rs: ReplicaSet): Pod[] {
  const owner = controllerOf(rs);
  const siblings = owner === undefined ? [rs] : replicaSets(ctx).byIndex('owner', owner.uid);
  return siblings.flatMap((s) => pods(ctx).byIndex('owner', s.metadata?.uid ?? '')).filter((p) => isPodActive(p));
}

function asObject(rs: ReplicaSet): KubeObject {
  return { ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' } as KubeObject;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function syncReplicaSet(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
  const state = stateOf(ctx);
  const rs = replicaSets(ctx).get(key);
  if (rs === undefined) {
    state.expectations.forget(key);
    return;
  }
  const needsSync = state.expectations.satisfied(key);
  const { namespace } = splitKey(key);
  const candidates = pods(ctx).byIndex('namespace', namespace ?? '').filter((p) => isPodActive(p));
  const owned = await claimPods(ctx, rs, candidates);
  const failure = needsSync && !isDeleting(rs) ? await manageReplicas(ctx, rs, owned, state) : undefined;
  // API timestamps (creation, Ready transitions) are wall-clock; the runtime clock is monotonic.
  const status = replicaSetStatus(rs, owned, { nowMs: Date.now(), failure });
  if (statusChanged(rs.status, status)) {
    try {
      await ctx.api.patch(refs.replicasets, namespace, rs.metadata?.name ?? '', { status: { ...status, conditions: status.conditions ?? null } }, 'merge', { subresource: 'status' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  if (failure !== undefined) throw new ReplicaSetSyncError(key, failure);
  const recheckMs = availabilityRecheckMs(rs, status);
  return recheckMs === undefined ? undefined : { requeueAfterMs: recheckMs };
}

/** A sync whose creates or deletes failed: the runtime retries the key with backoff. */
export class ReplicaSetSyncError extends Error {
  readonly code = 'replicaSetSync';
  constructor(readonly key: string, readonly failure: ManageFailure) {
    super(`replicaset ${key}: ${failure.reason}: ${failure.message}`);
  }
}

export const replicaSetController: ControllerSpec = {
  name: 'replicaset',
  workers: 5,
  resource: refs.replicasets,
  watch(ctx, queue) {
    const state: ReplicaSetState = { expectations: new Expectations(ctx.clock) };
    states.set(ctx, state);
    const offReplicaSets = replicaSets(ctx).addHandlers({
      onAdd: (rs) => queue.add(objectKey(rs)),
      onUpdate: (_previous, rs) => queue.add(objectKey(rs)),
      onDelete: (rs) => {
        state.expectations.forget(objectKey(rs));
        queue.add(objectKey(rs));
      },
    });
    const offPods = watchPods(ctx, queue, state);
    return () => {
      offReplicaSets();
      offPods();
    };
  },
  reconcile: (key, ctx) => syncReplicaSet(key, ctx),
};
