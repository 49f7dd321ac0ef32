/**
 * The garbage collector: deletes objects whose owners are gone, and carries out the Foreground and
 * Orphan propagation the API records as finalizers. Decisions are in gc-decisions.ts; this file
 * reads the informers of every collected resource, verifies with live reads, and patches/deletes.
 *
 * Decision: the ownerReferences graph is the informers' `owner` index (owner uid → dependents),
 * so the collector holds no copy of its own. A key is `<group>/<resource>|<namespace>/<name>`.
 * Keys are queued only for candidates: an object with an owner the caches do not show (solid),
 * an owner deleting with a GC finalizer, dependents of an object that vanished, owners of a
 * dependent that vanished. A reconcile first decides from the caches; only when that says "act"
 * does it read its doubtful owners live and decide again, and every write carries the object's
 * uid and resourceVersion as preconditions, so a stale cache never deletes anything (an owner
 * missing from a cache is looked up by a live GET; a uid found absent is remembered, as uids
 * never come back).
 */
import { finalizerForeground, finalizerOrphan } from '../../apiserver/registry/deletion-policy.js';
import { objectKey, splitKey, type KubeObject, type OwnerReference } from '../../objects/index.js';
import { isNotFound } from '../runtime/api-errors.js';
import type { ControllerContext, ControllerSpec, Informer, ResourceRef, WorkQueue } from '../runtime/types.js';
import { garbageCollectedResources, resourceForKind } from '../resource-catalog.js';
import {
  decideDeletingOwner, decideDependent, finalizersWithout, ownerReferencesWithout, ownerStateOf,
  type DependentView, type OwnerState, type OwnerVerdict,
} from './gc-decisions.js';
import { AbsentOwners } from './absent-owners.js';
import { garbageCollectorLimits } from './limits.js';

const tracked: readonly ResourceRef[] = garbageCollectedResources();
const trackedById = new Map(tracked.map((ref) => [`${ref.group}/${ref.resource}`, ref]));

const itemKey = (ref: ResourceRef, object: KubeObject): string => `${ref.group}/${ref.resource}|${objectKey(object)}`;

function parseItemKey(key: string): { ref: ResourceRef; namespace: string | undefined; name: string } | null {
  const bar = key.indexOf('|');
  const ref = trackedById.get(key.slice(0, bar));
  return bar < 0 || ref === undefined ? null : { ref, ...splitKey(key.slice(bar + 1)) };
}

const informerOf = (ctx: ControllerContext, ref: ResourceRef): Informer => ctx.informers.informer(ref);
const deleting = (object: KubeObject): boolean => object.metadata.deletionTimestamp !== undefined;
const hasGcFinalizer = (object: KubeObject): boolean => (object.metadata.finalizers ?? []).some((f) => f === finalizerOrphan || f === finalizerForeground);

/** Where an owner lives: its resource (if collected) and namespace; null when unresolvable for this dependent. */
function ownerLocation(dependent: KubeObject, reference: OwnerReference): { ref: ResourceRef; namespace: string | undefined } | null {
  const ref = resourceForKind(reference.apiVersion, reference.kind);
  if (ref === undefined || !trackedById.has(`${ref.group}/${ref.resource}`)) return null;
  const namespace = dependent.metadata.namespace;
  // A cluster-scoped object cannot be owned by a namespaced one (Kubernetes: OwnerRefInvalidNamespace).
  if (ref.namespaced && (namespace === undefined || namespace === '')) return null;
  return { ref, namespace: ref.namespaced ? namespace : undefined };
}

/** The owner's state as the caches show it; 'absent' from a cache is only a doubt, to be checked live. */
function cachedOwnerState(ctx: ControllerContext, dependent: KubeObject, reference: OwnerReference): OwnerState {
  const location = ownerLocation(dependent, reference);
  if (location === null) return 'unresolvable';
  const key = location.namespace === undefined ? reference.name : `${location.namespace}/${reference.name}`;
  return ownerStateOf(reference, informerOf(ctx, location.ref).get(key) ?? null);
}

const absentOwners = new WeakMap<ControllerContext, AbsentOwners>();

/** Per activation: a member that regains the Lease starts with nothing remembered. */
function absentOwnersOf(ctx: ControllerContext): AbsentOwners {
  let cache = absentOwners.get(ctx);
  if (cache === undefined) absentOwners.set(ctx, cache = new AbsentOwners(garbageCollectorLimits.absentOwnersMax));
  return cache;
}

/** The owner's state from a live read (or an earlier live read that found its uid absent). */
async function liveOwnerState(ctx: ControllerContext, dependent: KubeObject, reference: OwnerReference): Promise<OwnerState> {
  const location = ownerLocation(dependent, reference);
  if (location === null) return 'unresolvable';
  const absent = absentOwnersOf(ctx);
  if (absent.has(reference.uid)) return 'absent';
  let found: KubeObject | null;
  try {
    found = await ctx.api.get<KubeObject>(location.ref, location.namespace, reference.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    found = null;
  }
  const state = ownerStateOf(reference, found);
  if (state === 'absent') absent.add(reference.uid);
  return state;
}

function dependentsOf(ctx: ControllerContext, uid: string): DependentView[] {
  const out: DependentView[] = [];
  for (const ref of tracked) {
    for (const object of informerOf(ctx, ref).byIndex('owner', uid)) out.push({ item: itemKey(ref, object), object });
  }
  return out;
}

function enqueueIfCandidate(ctx: ControllerContext, queue: WorkQueue, ref: ResourceRef, object: KubeObject): void {
  if (deleting(object)) {
    if (hasGcFinalizer(object)) queue.add(itemKey(ref, object));
    return;
  }
  const owners = object.metadata.ownerReferences ?? [];
  // Unresolvable owners count as solid: queuing their dependents on every update would decide nothing.
  if (owners.some((owner) => ['absent', 'waiting'].includes(cachedOwnerState(ctx, object, owner)))) queue.add(itemKey(ref, object));
}

function onVanished(ctx: ControllerContext, queue: WorkQueue, object: KubeObject): void {
  const uid = object.metadata.uid;
  if (uid !== undefined) for (const dependent of dependentsOf(ctx, uid)) queue.add(dependent.item);
  // An owner in the foreground may have been waiting for this one.
  for (const reference of object.metadata.ownerReferences ?? []) {
    const location = ownerLocation(object, reference);
    if (location === null) continue;
    const owner = informerOf(ctx, location.ref).get(location.namespace === undefined ? reference.name : `${location.namespace}/${reference.name}`);
    if (owner !== undefined && owner.metadata.uid === reference.uid && hasGcFinalizer(owner)) queue.add(itemKey(location.ref, owner));
  }
}

/** A merge patch guarded by the resourceVersion it was computed from (a 409 retries the key). */
async function patchMetadata(ctx: ControllerContext, ref: ResourceRef, object: KubeObject, metadata: Record<string, unknown>): Promise<void> {
  try {
    await ctx.api.patch(ref, object.metadata.namespace, object.metadata.name ?? '', {
      metadata: { ...metadata, resourceVersion: object.metadata.resourceVersion },
    }, 'merge');
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Have the caches of the object's owners' resources synced (so "not in the cache" means something)? */
function ownerCachesSynced(ctx: ControllerContext, object: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).every((reference) => {
    const location = ownerLocation(object, reference);
    return location === null || informerOf(ctx, location.ref).hasSynced();
  });
}

async function processOwner(ctx: ControllerContext, queue: WorkQueue, ref: ResourceRef, owner: KubeObject): Promise<void> {
  const uid = owner.metadata.uid ?? '';
  const action = decideDeletingOwner(owner, dependentsOf(ctx, uid));
  if (action === null) return;
  if (action.type === 'foreground') {
    for (const dependent of action.collect) queue.add(dependent.item);
    if (action.removeFinalizer) await patchMetadata(ctx, ref, owner, { finalizers: finalizersWithout(owner, finalizerForeground) });
    return;
  }
  const batch = action.dependents.slice(0, garbageCollectorLimits.dependentsPerReconcileMax);
  for (const dependent of batch) {
    const target = parseItemKey(dependent.item);
    if (target === null) continue;
    await patchMetadata(ctx, target.ref, dependent.object, { ownerReferences: ownerReferencesWithout(dependent.object, [uid]) });
  }
  if (batch.length < action.dependents.length) {
    queue.add(itemKey(ref, owner));
    return;
  }
  await patchMetadata(ctx, ref, owner, { finalizers: finalizersWithout(owner, finalizerOrphan) });
  ctx.logger.debug('garbage collector: orphaned dependents', { owner: itemKey(ref, owner), dependents: batch.length });
}

async function processDependent(ctx: ControllerContext, ref: ResourceRef, cached: KubeObject): Promise<void> {
  const references = cached.metadata.ownerReferences ?? [];
  const uid = cached.metadata.uid ?? '';
  const fromCache = references.map((reference): OwnerVerdict => ({ reference, state: cachedOwnerState(ctx, cached, reference) }));
  if (decideDependent(cached, fromCache, dependentsOf(ctx, uid).length > 0).type === 'none') return;
  // The caches say act: decide again on live reads of every owner not seen solid. The object's own
  // state is the cached one: the writes below carry its uid and resourceVersion as preconditions,
  // so a stale copy fails (409, retried on the newer copy) instead of acting.
  const item = cached;
  const verdicts: OwnerVerdict[] = [];
  for (const reference of item.metadata.ownerReferences ?? []) {
    const cachedState = cachedOwnerState(ctx, item, reference);
    const state = cachedState === 'solid' || cachedState === 'unresolvable' ? cachedState : await liveOwnerState(ctx, item, reference);
    verdicts.push({ reference, state });
  }
  const action = decideDependent(item, verdicts, dependentsOf(ctx, uid).length > 0);
  if (action.type === 'removeOwnerReferences') {
    await patchMetadata(ctx, ref, item, { ownerReferences: ownerReferencesWithout(item, action.uids) });
  } else if (action.type === 'delete') {
    try {
      await ctx.api.delete(ref, item.metadata.namespace, item.metadata.name ?? '', {
        propagationPolicy: action.policy,
        preconditions: { uid, ...(item.metadata.resourceVersion !== undefined ? { resourceVersion: item.metadata.resourceVersion } : {}) },
      });
      ctx.logger.debug('garbage collector: deleted a dependent of absent owners', { item: itemKey(ref, item), policy: action.policy });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

export const garbageCollector: ControllerSpec = {
  name: 'garbagecollector',
  workers: garbageCollectorLimits.workers,
  maxRetries: garbageCollectorLimits.maxRetries,
  watch(ctx, queue) {
    const unsubscribes = tracked.map((ref) => informerOf(ctx, ref).addHandlers({
      onAdd: (object) => enqueueIfCandidate(ctx, queue, ref, object),
      onUpdate: (previous, next) => {
        if (previous.metadata.resourceVersion !== next.metadata.resourceVersion) enqueueIfCandidate(ctx, queue, ref, next);
      },
      onDelete: (object) => onVanished(ctx, queue, object),
    }));
    return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
  },
  async reconcile(key, ctx, queue) {
    const target = parseItemKey(key);
    if (target === null) return;
    const later = { requeueAfterMs: garbageCollectorLimits.unsyncedRecheckMs };
    if (!informerOf(ctx, target.ref).hasSynced()) return later;
    const cached = informerOf(ctx, target.ref).get(target.namespace === undefined ? target.name : `${target.namespace}/${target.name}`);
    if (cached === undefined) return;
    if (deleting(cached) && hasGcFinalizer(cached)) {
      // Orphaning or waiting needs every dependent, whatever its kind: all caches complete.
      if (!tracked.every((ref) => informerOf(ctx, ref).hasSynced())) return later;
      await processOwner(ctx, queue, target.ref, cached);
      return;
    }
    // A dependent needs only its owners' caches: one resource that cannot sync does not stop the rest.
    if (!ownerCachesSynced(ctx, cached)) return later;
    await processDependent(ctx, target.ref, cached);
  },
};
