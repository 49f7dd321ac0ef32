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
 * finalizers, no grace period left (a terminating pod stays until its agent confirms with a
 * grace-0 delete: Kubernetes' ShouldDeleteDuringUpdate), and for a namespace no spec finalizers
 * either (the namespace controller's `finalize` is what ends a namespace).
 */
export function deletionCompleteFor(resource: string, object: KubeObject): boolean {
  if (object.metadata.deletionTimestamp === undefined || (object.metadata.finalizers ?? []).length > 0) return false;
  if ((object.metadata.deletionGracePeriodSeconds ?? 0) !== 0) return false;
  return resource !== 'namespaces' || namespaceSpecFinalizers(object).length === 0;
}

/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const defaultTerminationGracePeriodSeconds = 30;

/**
 * What a DELETE does to a pod's grace period (Kubernetes' rest.BeforeDelete with the pod strategy's
 * CheckGracefulDelete): `none` — not a graceful deletion, the object goes now unless finalizers hold
 * it; `pending` — already terminating and the request does not shorten the grace: nothing changes;
 * `mark` — set deletionGracePeriodSeconds and deletionTimestamp (the time the grace ends).
 */
export type GracePlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'mark'; readonly gracePeriodSeconds: number; readonly deletionTimestampMs: number };

/**
 * Decision: only pods are deleted gracefully (as in Kubernetes' core registry): a pod bound to a
 * node and not terminal is marked for `gracePeriodSeconds` (the request's, else the pod's
 * terminationGracePeriodSeconds, else 30) so its agent can stop it, and the agent's grace-0 delete
 * removes it. Unbound and terminal pods have nothing to stop and go at once. A second delete may
 * only shorten the grace; its deletionTimestamp moves back by the difference.
 */
export function planGracefulDeletion(resource: string, object: KubeObject, requestedSeconds: number | undefined, nowMs: number): GracePlan {
  if (resource !== 'pods') return { kind: 'none' };
  // A negative request means "as soon as possible but gracefully": Kubernetes turns it into 1 s.
  const requested = requestedSeconds !== undefined && requestedSeconds < 0 ? 1 : requestedSeconds;
  const meta = object.metadata;
  if (meta.deletionTimestamp !== undefined) {
    const current = meta.deletionGracePeriodSeconds ?? 0;
    // Marked without a grace (finalizers) or already at 0: nothing left to wait for.
    if (current === 0) return { kind: 'none' };
    if (requested === undefined || requested >= current) return { kind: 'pending' };
    const stampMs = Date.parse(meta.deletionTimestamp);
    const base = Number.isNaN(stampMs) ? nowMs + current * 1000 : stampMs;
    return { kind: 'mark', gracePeriodSeconds: requested, deletionTimestampMs: base - (current - requested) * 1000 };
  }
  const period = podGracePeriodSeconds(object, requested);
  return { kind: 'mark', gracePeriodSeconds: period, deletionTimestampMs: nowMs + period * 1000 };
}

/** The grace a first delete gives a pod: 0 when nothing runs it (unbound) or it already ended (Succeeded, Failed). */
export function podGracePeriodSeconds(pod: KubeObject, requestedSeconds: number | undefined): number {
  const spec = (pod['spec'] ?? {}) as { nodeName?: unknown; terminationGracePeriodSeconds?: unknown };
  const phase = ((pod['status'] ?? {}) as { phase?: unknown }).phase;
  if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return 0;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  if (requestedSeconds !== undefined) return requestedSeconds;
  const own = spec.terminationGracePeriodSeconds;
  return typeof own === 'number' && Number.isInteger(own) && own >= 0 ? own : defaultTerminationGracePeriodSeconds;
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
