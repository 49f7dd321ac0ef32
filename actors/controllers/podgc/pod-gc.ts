/**
 * The pod garbage collector's decisions, pure (Kubernetes' podgc `gcOrphaned` and
 * `gcTerminated`): which pods bound to a missing Node go, and when; which terminated pods go once
 * there are more than `--terminated-pod-gc-threshold`.
 *
 * A pod bound to a Node whose deletion this controller saw goes at once. One bound to a Node it
 * never saw waits out a quarantine (`--pod-gc-quarantine-period`, 40 s like Kubernetes' fixed
 * quarantineTime): a pod may be bound before the informer delivers its new Node, and deleting it
 * then would be wrong. Either way the controller asks the API that the Node is really gone
 * before deleting.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export type OrphanDecision =
  | { readonly kind: 'keep' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'delete' };

export function orphanDecision(args: { readonly nodeKnown: boolean; readonly nodeDeletionSeen: boolean; readonly quarantineStartMs: number; readonly nowMs: number; readonly quarantineMs: number }): OrphanDecision {
  if (args.nodeKnown) return { kind: 'keep' };
  if (args.nodeDeletionSeen) return { kind: 'delete' };
  const remaining = args.quarantineStartMs + args.quarantineMs - args.nowMs;
  return remaining > 0 ? { kind: 'wait', ms: remaining } : { kind: 'delete' };
}

export function isTerminated(pod: Pick<Pod, 'status'>): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * The terminated pods to delete: the oldest beyond `threshold` (evicted ones first, then by
 * creation time, then name for a stable order), at most `max`. A threshold of 0 turns this off,
 * as in Kubernetes.
 */
export function terminatedToDelete<P extends Pick<Pod, 'status' | 'metadata'>>(pods: readonly P[], threshold: number, max: number): P[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter((p) => isTerminated(p) && p.metadata?.deletionTimestamp === undefined);
  const excess = terminated.length - threshold;
  if (excess <= 0) return [];
  const evicted = (p: P): number => (p.status?.reason === 'Evicted' ? 0 : 1);
  const sorted = [...terminated].sort((a, b) => evicted(a) - evicted(b)
    || (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '')
    || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  return sorted.slice(0, Math.min(excess, max));
}
