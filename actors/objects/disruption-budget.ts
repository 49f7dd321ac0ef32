/**
 * PodDisruptionBudget facts both its writers share: the eviction subresource (which spends a
 * disruption) and the disruption controller (which computes the budget): which pods a budget
 * selects, and its `DisruptionAllowed` condition, worded as Kubernetes' pdb helper words it.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { setCondition, type Condition } from './conditions.js';
import { selectorMatches, type StructuredLabelSelector } from './labels.js';

export const disruptionAllowedConditionType = 'DisruptionAllowed';

/**
 * Does the budget cover the pod? Same namespace and a selector that selects its labels; a
 * missing selector selects nothing and an empty one every pod of the namespace (policy/v1).
 */
export function budgetSelectsPod(budget: PodDisruptionBudget, pod: Pod): boolean {
  if ((budget.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return false;
  return selectorMatches(budget.spec?.selector as StructuredLabelSelector | undefined, pod.metadata?.labels);
}

/** The status with its DisruptionAllowed condition matching `disruptionsAllowed` (SufficientPods / InsufficientPods). */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: string): PodDisruptionBudgetStatus {
  const allowed = status.disruptionsAllowed > 0;
  const condition: Condition = {
    type: disruptionAllowedConditionType, status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '',
    ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
  };
  const conditions = setCondition<Condition>(status.conditions, condition, now) as NonNullable<PodDisruptionBudgetStatus['conditions']>;
  return { ...status, conditions };
}
