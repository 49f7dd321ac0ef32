/**
 * Taints and tolerations, as the scheduler (TaintToleration filter and score), the node lifecycle
 * controller (NoExecute eviction with tolerationSeconds) and admission (DefaultTolerationSeconds)
 * all match them. Semantics of Kubernetes' `v1helper.TolerationsTolerateTaint`.
 */
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

export type { Taint, Toleration };

/** The taint keys the node lifecycle controller sets (Kubernetes' well-known names). */
export const nodeTaints = {
  unreachable: 'node.kubernetes.io/unreachable',
  notReady: 'node.kubernetes.io/not-ready',
  unschedulable: 'node.kubernetes.io/unschedulable',
} as const;

/** Does one toleration tolerate one taint? An empty key with `Exists` tolerates every taint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== '' && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  if (operator !== 'Equal') return false;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/** Is the taint tolerated by any of the tolerations? */
export function isTolerated(taint: Taint, tolerations: readonly Toleration[] | undefined): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

/**
 * The first taint with one of `effects` that no toleration tolerates, or undefined. The scheduler
 * filters on NoSchedule and NoExecute; PreferNoSchedule only scores.
 */
export function firstUntoleratedTaint(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined,
  effects: readonly string[] = ['NoSchedule', 'NoExecute']): Taint | undefined {
  return (taints ?? []).find((taint) => effects.includes(taint.effect) && !isTolerated(taint, tolerations));
}

/**
 * For NoExecute eviction: how long a pod may stay on a node with these NoExecute taints.
 * 0: some NoExecute taint is untolerated (evict now); `Infinity`: tolerated forever; otherwise the
 * smallest `tolerationSeconds` among the tolerations that match (Kubernetes' getMinTolerationTime).
 */
export function minTolerationSeconds(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): number {
  let min = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = (tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    for (const t of matching) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      min = Math.min(min, Math.max(0, t.tolerationSeconds));
    }
  }
  return min;
}
