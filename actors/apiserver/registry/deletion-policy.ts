/**
 * What a DELETE does to an object's finalizers, and when a write completes a deletion: the
 * garbage-collection half of Kubernetes' generic registry (`deletionFinalizersForGarbageCollection`,
 * `ShouldDeleteDuringUpdate`, the namespace store's `ShouldDeleteNamespaceDuringUpdate`), as pure
 * functions.
 *
 * Decision: the propagation policy is carried on the object as a finalizer (`orphan`,
 * `foregroundDeletion`) because the garbage collector, not the API, does the work: the API only
 * marks the owner, so the decision survives a member restart and is visible to every GC replica.
 * An explicit policy replaces whichever of the two finalizers the object had; with none, a
 * finalizer already on the object decides, then the default (Background: neither).
 */
import type { KubeObject } from '../types.js';

export const finalizerOrphan = 'orphan';
export const finalizerForeground = 'foregroundDeletion';
/** The namespace controller's spec finalizer: the namespace stays until its content is gone. */
export const finalizerKubernetes = 'kubernetes';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export function isPropagationPolicy(value: unknown): value is PropagationPolicy {
  return value === 'Orphan' || value === 'Background' || value === 'Foreground';
}

/** The policy a delete applies: the explicit one, else what the object's finalizers already say, else Background. */
export function effectivePolicy(object: KubeObject, requested: PropagationPolicy | undefined): PropagationPolicy {
  if (requested !== undefined) return requested;
  const finalizers = object.metadata.finalizers ?? [];
  if (finalizers.includes(finalizerOrphan)) return 'Orphan';
  if (finalizers.includes(finalizerForeground)) return 'Foreground';
  return 'Background';
}

/** The object's finalizers after a delete with `policy`: the other finalizers kept in order, the GC one added. */
export function finalizersForDeletion(object: KubeObject, policy: PropagationPolicy): string[] {
  const kept = (object.metadata.finalizers ?? []).filter((f) => f !== finalizerOrphan && f !== finalizerForeground);
  if (policy === 'Orphan') return [...kept, finalizerOrphan];
  if (policy === 'Foreground') return [...kept, finalizerForeground];
  return kept;
}

/** Spec finalizers of a namespace (only namespaces have them). */
export function namespaceSpecFinalizers(object: KubeObject): string[] {
  const finalizers = (object['spec'] as { finalizers?: unknown } | undefined)?.finalizers;
  return Array.isArray(finalizers) ? finalizers.filter((f): f is string => typeof f === 'string') : [];
}

/**
 * A write that leaves a deleting object with nothing holding it removes it: no metadata
 * finalizers, and for a namespace no spec finalizers either (the namespace controller's
 * `finalize` is what ends a namespace).
 */
export function deletionCompleteFor(resource: string, object: KubeObject): boolean {
  if (object.metadata.deletionTimestamp === undefined || (object.metadata.finalizers ?? []).length > 0) return false;
  return resource !== 'namespaces' || namespaceSpecFinalizers(object).length === 0;
}

/**
 * The namespace a `finalize` write stores: the stored one with only `spec.finalizers` taken from
 * the request (Kubernetes' finalize strategy); a request without the field clears them.
 */
export function finalizeNamespace(current: KubeObject, incoming: KubeObject): KubeObject {
  const next = structuredClone(current);
  const spec = { ...(next['spec'] as Record<string, unknown> | undefined) };
  const finalizers = namespaceSpecFinalizers(incoming);
  if (finalizers.length > 0) spec['finalizers'] = finalizers;
  else delete spec['finalizers'];
  next['spec'] = spec;
  return next;
}

/** A main-resource update keeps a namespace's spec finalizers: only `finalize` changes them (Kubernetes' PrepareForUpdate). */
export function keepNamespaceFinalizers(current: KubeObject, next: KubeObject): KubeObject {
  if (current['spec'] === undefined && next['spec'] === undefined) return next;
  const spec = { ...(next['spec'] as Record<string, unknown> | undefined) };
  const finalizers = (current['spec'] as { finalizers?: unknown } | undefined)?.finalizers;
  if (finalizers === undefined) delete spec['finalizers'];
  else spec['finalizers'] = structuredClone(finalizers);
  return { ...next, spec };
}
