/**
 * Claiming objects for a controller, as Kubernetes' ControllerRefManager does for ReplicaSets
 * (pods) and Deployments (ReplicaSets): a controller owns what carries its controllerRef and
 * matches its selector, adopts orphans its selector matches, and releases what it owns but no
 * longer selects. Another controller's objects are never touched.
 *
 * Decision: adoption and release are merge patches that carry the object's resourceVersion, so a
 * concurrent change (another controller adopting first, a label edit) fails with 409 instead of
 * being overwritten; the controller re-reads and decides again.
 */
import { controllerOf, controllerRef, isDeleting, type KubeObject, type OwnerReference } from './meta.js';

export type ClaimDecision = 'own' | 'adopt' | 'release' | 'ignore';

type Owner = { readonly apiVersion?: string | undefined; readonly kind?: string | undefined; readonly metadata?: { readonly name?: string | undefined; readonly uid?: string | undefined; readonly deletionTimestamp?: string | undefined } | undefined };
type Owned = { readonly metadata?: { readonly ownerReferences?: readonly OwnerReference[] | undefined; readonly deletionTimestamp?: string | undefined; readonly resourceVersion?: string | undefined } | undefined };

/** What `owner` does with `object`, given whether its selector selects the object's labels. */
export function claimDecision(owner: Owner, object: Owned, selected: boolean): ClaimDecision {
  const ref = controllerOf(object);
  if (ref !== undefined) {
    if (ref.uid !== owner.metadata?.uid) return 'ignore';
    if (selected) return 'own';
    // An owner being deleted leaves its dependents to the garbage collector.
    return isDeleting(owner) ? 'ignore' : 'release';
  }
  if (!selected || isDeleting(owner) || isDeleting(object)) return 'ignore';
  return 'adopt';
}

/** The merge patch that makes `owner` the controller of `object` (other owners kept). */
export function adoptionPatch(owner: Owner, object: Owned): { metadata: Partial<KubeObject['metadata']> } {
  const others = (object.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata?.uid);
  return { metadata: { ownerReferences: [...others, controllerRef(owner)], ...resourceVersionOf(object) } };
}

/** The merge patch that removes `owner` from `object`'s ownerReferences. */
export function releasePatch(owner: Owner, object: Owned): { metadata: Record<string, unknown> } {
  const rest = (object.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata?.uid);
  return { metadata: { ownerReferences: rest.length === 0 ? null : rest, ...resourceVersionOf(object) } };
}

function resourceVersionOf(object: Owned): { resourceVersion?: string } {
  const rv = object.metadata?.resourceVersion;
  return rv === undefined ? {} : { resourceVersion: rv };
}
