/**
 * The garbage collector's decisions, as pure functions of an object, its owners' states and its
 * dependents (Kubernetes' attemptToDeleteItem / processDeletingDependentsItem / orphanDependents):
 *
 * - an owner being deleted with the `orphan` finalizer: strip its ownerReference from every
 *   dependent, then remove the finalizer;
 * - an owner being deleted with `foregroundDeletion`: delete its dependents, and remove the
 *   finalizer once no dependent that blocks owner deletion is left;
 * - a dependent: classify each owner as solid (exists), absent (no object with that uid: deleted,
 *   or never existed) or waiting (being deleted in the foreground). With a solid owner, only the
 *   references to absent and waiting owners are removed; with none, the dependent is deleted
 *   (in the foreground when a waiting owner must wait for the dependent's own dependents).
 *
 * Decision: an owner of a kind no served resource has, or a namespaced owner of a cluster-scoped
 * dependent, is "unresolvable" and counts as solid: Kubernetes cannot collect such a dependent
 * either, and deleting on a doubt is the one mistake a collector must not make.
 */
import { finalizerForeground, finalizerOrphan } from '../../apiserver/registry/deletion-policy.js';
import type { KubeObject, OwnerReference } from '../../objects/index.js';

export type OwnerState = 'solid' | 'absent' | 'waiting' | 'unresolvable';

export interface OwnerVerdict {
  readonly reference: OwnerReference;
  readonly state: OwnerState;
}

/** A dependent of an owner, as the informers show it. */
export interface DependentView {
  /** The dependent's identity for the work queue (resource and object key). */
  readonly item: string;
  readonly object: KubeObject;
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export type OwnerAction =
  /** Strip `ownerUid` from these dependents' ownerReferences, then remove the `orphan` finalizer. */
  | { readonly type: 'orphanDependents'; readonly dependents: readonly DependentView[] }
  /** Have these dependents collected; remove `foregroundDeletion` when `removeFinalizer`. */
  | { readonly type: 'foreground'; readonly collect: readonly DependentView[]; readonly removeFinalizer: boolean };

export type DependentAction =
  | { readonly type: 'none' }
  | { readonly type: 'removeOwnerReferences'; readonly uids: readonly string[] }
  | { readonly type: 'delete'; readonly policy: PropagationPolicy };

const hasFinalizer = (object: KubeObject, finalizer: string): boolean => (object.metadata.finalizers ?? []).includes(finalizer);
const deleting = (object: KubeObject): boolean => object.metadata.deletionTimestamp !== undefined;

/** What to do for an owner being deleted with a GC finalizer; null when the object is not one. */
export function decideDeletingOwner(owner: KubeObject, dependents: readonly DependentView[]): OwnerAction | null {
  if (!deleting(owner)) return null;
  if (hasFinalizer(owner, finalizerOrphan)) return { type: 'orphanDependents', dependents };
  if (!hasFinalizer(owner, finalizerForeground)) return null;
  const uid = owner.metadata.uid ?? '';
  const blocking = dependents.filter((d) => (d.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion === true));
  return { type: 'foreground', collect: dependents.filter((d) => !deleting(d.object)), removeFinalizer: blocking.length === 0 };
}

/** What to do for an object with ownerReferences, given each owner's state. */
export function decideDependent(item: KubeObject, owners: readonly OwnerVerdict[], hasDependents: boolean): DependentAction {
  // Already going: as an owner in the foreground it is decideDeletingOwner's; otherwise nothing is left to decide.
  if (deleting(item) || owners.length === 0) return { type: 'none' };
  const solid = owners.filter((o) => o.state === 'solid' || o.state === 'unresolvable');
  const stale = owners.filter((o) => o.state === 'absent' || o.state === 'waiting');
  if (solid.length > 0) {
    return stale.length === 0 ? { type: 'none' } : { type: 'removeOwnerReferences', uids: stale.map((o) => o.reference.uid) };
  }
  const waiting = owners.some((o) => o.state === 'waiting');
  if (waiting && hasDependents) return { type: 'delete', policy: 'Foreground' };
  if (hasFinalizer(item, finalizerOrphan)) return { type: 'delete', policy: 'Orphan' };
  if (hasFinalizer(item, finalizerForeground)) return { type: 'delete', policy: 'Foreground' };
  return { type: 'delete', policy: 'Background' };
}

/**
 * An owner's state from what a read returned: `found` null (404) or an object with another uid
 * (the name was reused) means the owner is absent.
 */
export function ownerStateOf(reference: OwnerReference, found: KubeObject | null): OwnerState {
  if (found === null || found.metadata.uid !== reference.uid) return 'absent';
  return deleting(found) && hasFinalizer(found, finalizerForeground) ? 'waiting' : 'solid';
}

/** The ownerReferences left after removing `uids`; null when none is left (the field goes). */
export function ownerReferencesWithout(object: KubeObject, uids: readonly string[]): OwnerReference[] | null {
  const kept = (object.metadata.ownerReferences ?? []).filter((r) => !uids.includes(r.uid));
  return kept.length === 0 ? null : kept;
}

/** The finalizers left after removing `finalizer`; null when none is left. */
export function finalizersWithout(object: KubeObject, finalizer: string): string[] | null {
  const kept = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return kept.length === 0 ? null : kept;
}
