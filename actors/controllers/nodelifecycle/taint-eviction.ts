/**
 * NoExecute taint eviction, pure (Kubernetes' taint-eviction controller, `processPodOnNode`): a
 * pod on a Node with a NoExecute taint it does not tolerate goes at once; one that tolerates
 * every such taint, some with `tolerationSeconds`, goes when the first of them runs out, counted
 * from the taint's `timeAdded`; tolerated without seconds, it stays.
 *
 * Decision: the clock starts at the taint's `timeAdded` (written by the controller that set it),
 * not when this process first saw the taint as Kubernetes does, so a new leader does not grant a
 * pod its whole toleration again. `timeAdded` has second precision, so the true moment lies in
 * [timeAdded, timeAdded + 1 s); of the two upper bounds, that and our own first sight of the
 * taint, the earlier is taken: never before the truth (no pod goes early), at most a second late.
 */
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isTolerated, minTolerationSeconds } from '../../objects/index.js';

export type EvictionDecision =
  | { readonly kind: 'stay' }
  | { readonly kind: 'evict'; readonly reason: 'untolerated' | 'tolerationExpired' }
  | { readonly kind: 'wait'; readonly ms: number };

export function noExecuteTaintsOf(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/**
 * `startMs(taint)` gives the wall-clock ms the taint's toleration counts from (its timeAdded,
 * else when it was first seen).
 */
export function evictionDecision(tolerations: readonly Toleration[] | undefined, taints: readonly Taint[] | undefined,
  args: { readonly nowMs: number; readonly startMs: (taint: Taint) => number }): EvictionDecision {
  const noExecute = noExecuteTaintsOf(taints);
  if (noExecute.length === 0) return { kind: 'stay' };
  if (noExecute.some((t) => !isTolerated(t, tolerations))) return { kind: 'evict', reason: 'untolerated' };
  let deadline = Infinity;
  for (const taint of noExecute) {
    const seconds = minTolerationSeconds([taint], tolerations);
    if (seconds === Infinity) continue;
    deadline = Math.min(deadline, args.startMs(taint) + seconds * 1000);
  }
  if (deadline === Infinity) return { kind: 'stay' };
  if (deadline <= args.nowMs) return { kind: 'evict', reason: 'tolerationExpired' };
  return { kind: 'wait', ms: deadline - args.nowMs };
}

/** Wall-clock ms of a taint's `timeAdded`, or undefined when absent or unreadable. */
export function timeAddedMs(taint: Taint): number | undefined {
  if (taint.timeAdded === undefined) return undefined;
  const ms = Date.parse(taint.timeAdded);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The wall-clock ms a NoExecute taint's tolerations count from (see the Decision above):
 * `timeAdded` when it is all we know, our first sight when the taint has no `timeAdded`.
 */
export function tolerationStartMs(taint: Taint, firstSeenMs: number | undefined): number | undefined {
  const added = timeAddedMs(taint);
  if (added === undefined) return firstSeenMs;
  if (firstSeenMs === undefined) return added + timeAddedPrecisionMs - 1;
  return Math.max(added, Math.min(firstSeenMs, added + timeAddedPrecisionMs - 1));
}

/** `timeAdded` is written at second precision (metav1.Time). */
const timeAddedPrecisionMs = 1_000;
