/**
 * What an eviction may do under PodDisruptionBudgets, as Kubernetes' EvictionREST decides it:
 * pure functions of the pod and the budgets, so the rules are tested without a cluster.
 *
 * - A pod that is not running yet (Pending), has finished, or is already being deleted is not
 *   protected: deleting it disrupts nothing.
 * - A pod covered by no budget is deleted; by more than one, refused (500, as Kubernetes: the
 *   budgets would have to be spent together, atomically).
 * - A pod that is not ready may be deleted without spending the budget when the budget is already
 *   met (IfHealthyBudget, the default) or always (AlwaysAllow); the delete then carries the pod's
 *   resourceVersion, so a pod that became ready meanwhile is not deleted on stale facts.
 * - Otherwise one disruption is spent: 429 TooManyRequests with Kubernetes' message and a
 *   `DisruptionBudget` cause when none is left, or when the controller has not yet computed the
 *   budget's current generation.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { budgetSelectsPod, isPodReady, withDisruptionAllowedCondition } from '../../objects/index.js';
import { ApiError, apiErrors } from '../status.js';
import type { FieldCause } from '../types.js';

/** Kubernetes' MaxDisruptedPodSize: evictions the controller has not confirmed yet, per budget. */
export const disruptedPodsMax = 2000;
export const evictionRefusedMessage = "Cannot evict pod as it would violate the pod's disruption budget.";

export type EvictionPlan =
  | { readonly kind: 'delete'; readonly podResourceVersion?: string }
  | { readonly kind: 'spend'; readonly budget: PodDisruptionBudget };

function ignoresBudgets(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || phase === undefined || pod.metadata?.deletionTimestamp !== undefined;
}

export function planEviction(pod: Pod, budgets: readonly PodDisruptionBudget[]): EvictionPlan {
  if (ignoresBudgets(pod)) return { kind: 'delete' };
  const covering = budgets.filter((b) => budgetSelectsPod(b, pod));
  if (covering.length === 0) return { kind: 'delete' };
  if (covering.length > 1) throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const budget = covering[0] as PodDisruptionBudget;
  if (!isPodReady(pod)) {
    const status = budget.status;
    const alwaysAllow = budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow';
    const budgetMet = status !== undefined && status.desiredHealthy > 0 && status.currentHealthy >= status.desiredHealthy;
    if (alwaysAllow || budgetMet) return { kind: 'delete', ...(pod.metadata?.resourceVersion !== undefined ? { podResourceVersion: pod.metadata.resourceVersion } : {}) };
  }
  return { kind: 'spend', budget };
}

function tooManyRequests(cause: string): ApiError {
  // No retryAfterSeconds: a Retry-After header would make client-go retry at once by itself;
  // kubectl drain waits 5 s between attempts on its own, as against Kubernetes.
  return new ApiError(429, 'TooManyRequests', evictionRefusedMessage, { causes: [{ reason: 'DisruptionBudget', message: cause } as unknown as FieldCause] });
}

/**
 * The budget after spending one disruption for `podName` at `now` (it joins `disruptedPods`, so
 * the controller does not count it healthy while its deletion is on the way). Throws 429 or 403.
 */
export function spendDisruption(budget: PodDisruptionBudget, podName: string, now: string): PodDisruptionBudget {
  const name = budget.metadata?.name ?? '';
  const status = budget.status;
  if (status === undefined || (status.observedGeneration ?? 0) < (budget.metadata?.generation ?? 0)) {
    throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  }
  if (status.disruptionsAllowed < 0) throw apiErrors.forbidden(`poddisruptionbudgets.policy "${name}" is forbidden: pdb disruptions allowed is negative`);
  if (Object.keys(status.disruptedPods ?? {}).length > disruptedPodsMax) {
    throw apiErrors.forbidden(`poddisruptionbudgets.policy "${name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`);
  }
  if (status.disruptionsAllowed === 0) {
    throw tooManyRequests(`The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
  }
  let next = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [podName]: now } };
  if (next.disruptionsAllowed === 0) next = withDisruptionAllowedCondition(next, now) as typeof next;
  return { ...budget, status: next };
}
