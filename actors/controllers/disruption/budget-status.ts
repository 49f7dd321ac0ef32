/**
 * The PodDisruptionBudget status as Kubernetes' disruption controller computes it, as pure
 * functions of the budget, the pods it selects and the scale of their controllers:
 *
 * - expectedPods and desiredHealthy: with an integer minAvailable, the selected pods and that
 *   number; with a percent minAvailable or a maxUnavailable, the sum of the pods' controllers'
 *   replicas (a Deployment's for its ReplicaSets' pods) and the percent of it rounded up;
 * - currentHealthy: selected pods that are ready, not being deleted, and not just evicted (an
 *   eviction records the pod in `disruptedPods`; it stops counting for two minutes or until the
 *   controller sees it deleted);
 * - disruptionsAllowed = currentHealthy − desiredHealthy, 0 when negative or when no pod is
 *   expected (a budget whose first pods appear before its first status must not allow anything);
 * - the DisruptionAllowed condition; on a failure to count (a pod whose controller is gone), a
 *   fail-safe status allowing nothing with reason SyncFailed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { isDeleting, isPodReady, setCondition, withDisruptionAllowedCondition, disruptionAllowedConditionType, type Condition } from '../../objects/index.js';
import { disruptionLimits } from './limits.js';

/** What the glue found as a pod's controller: its uid and replicas, none (unmanaged), or a controller that is gone. */
export type PodController =
  | { readonly kind: 'scaled'; readonly uid: string; readonly replicas: number }
  | { readonly kind: 'unmanaged' }
  | { readonly kind: 'missing' };

export interface BudgetInputs {
  readonly budget: PodDisruptionBudget;
  /** The pods the budget selects (budgetSelectsPod). */
  readonly pods: readonly Pod[];
  readonly controllerOf: (pod: Pod) => PodController;
  readonly nowMs: number;
}

export type BudgetResult =
  | { readonly kind: 'computed'; readonly status: PodDisruptionBudgetStatus; readonly unmanagedPods: readonly string[]; readonly recheckAtMs?: number }
  | { readonly kind: 'failed'; readonly status: PodDisruptionBudgetStatus; readonly message: string };

/** intstr.GetScaledValueFromIntOrPercent with roundUp: `25%` of 10 is 3. */
export function scaledValue(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const percent = Number(value.slice(0, -1));
  return Math.ceil((percent * total) / 100);
}

class CountError extends Error {}

/** The sum of the distinct controllers' replicas; unmanaged pods are listed, a missing controller fails. */
function expectedScale(inputs: BudgetInputs, unmanaged: string[]): number {
  const scales = new Map<string, number>();
  for (const pod of inputs.pods) {
    const found = inputs.controllerOf(pod);
    if (found.kind === 'unmanaged') unmanaged.push(pod.metadata?.name ?? '');
    else if (found.kind === 'missing') throw new CountError(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
    else scales.set(found.uid, found.replicas);
  }
  let total = 0;
  for (const replicas of scales.values()) total += replicas;
  return total;
}

function expectedAndDesired(inputs: BudgetInputs, unmanaged: string[]): { expected: number; desired: number } {
  const spec = inputs.budget.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expected = expectedScale(inputs, unmanaged);
    return { expected, desired: Math.max(0, expected - scaledValue(spec.maxUnavailable, expected)) };
  }
  if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    if (typeof spec.minAvailable === 'number') return { expected: inputs.pods.length, desired: spec.minAvailable };
    const expected = expectedScale(inputs, unmanaged);
    return { expected, desired: scaledValue(spec.minAvailable, expected) };
  }
  return { expected: 0, desired: 0 };
}

/** The evictions still in flight: listed pods not yet deleting and evicted less than the timeout ago. */
function pendingDisruptions(inputs: BudgetInputs): { pods: Record<string, string>; recheckAtMs?: number } {
  const recorded = inputs.budget.status?.disruptedPods ?? {};
  const pods: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const pod of inputs.pods) {
    const name = pod.metadata?.name ?? '';
    const at = recorded[name];
    if (at === undefined || isDeleting(pod)) continue;
    const expiresMs = Date.parse(at) + disruptionLimits.deletionTimeoutMs;
    if (!(expiresMs > inputs.nowMs)) continue;
    pods[name] = at;
    if (recheckAtMs === undefined || expiresMs < recheckAtMs) recheckAtMs = expiresMs;
  }
  return { pods, ...(recheckAtMs !== undefined ? { recheckAtMs } : {}) };
}

export function computeBudgetStatus(inputs: BudgetInputs): BudgetResult {
  const now = new Date(inputs.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const previous = inputs.budget.status;
  const generation = inputs.budget.metadata?.generation;
  const unmanaged: string[] = [];
  let counted: { expected: number; desired: number };
  try {
    counted = expectedAndDesired(inputs, unmanaged);
  } catch (error) {
    if (!(error instanceof CountError)) throw error;
    const condition: Condition = {
      type: disruptionAllowedConditionType, status: 'False', reason: 'SyncFailed', message: error.message,
      ...(previous?.observedGeneration !== undefined ? { observedGeneration: previous.observedGeneration } : {}),
    };
    const status: PodDisruptionBudgetStatus = {
      currentHealthy: previous?.currentHealthy ?? 0, desiredHealthy: previous?.desiredHealthy ?? 0, expectedPods: previous?.expectedPods ?? 0,
      ...(previous?.observedGeneration !== undefined ? { observedGeneration: previous.observedGeneration } : {}),
      ...(previous?.disruptedPods !== undefined ? { disruptedPods: previous.disruptedPods } : {}),
      disruptionsAllowed: 0,
      conditions: setCondition<Condition>(previous?.conditions, condition, now) as NonNullable<PodDisruptionBudgetStatus['conditions']>,
    };
    return { kind: 'failed', status, message: error.message };
  }
  const disrupted = pendingDisruptions(inputs);
  const healthy = inputs.pods.filter((pod) => !isDeleting(pod) && disrupted.pods[pod.metadata?.name ?? ''] === undefined && isPodReady(pod)).length;
  const allowed = counted.expected <= 0 ? 0 : Math.max(0, healthy - counted.desired);
  const status = withDisruptionAllowedCondition({
    currentHealthy: healthy, desiredHealthy: counted.desired, expectedPods: counted.expected, disruptionsAllowed: allowed,
    ...(Object.keys(disrupted.pods).length > 0 ? { disruptedPods: disrupted.pods } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(previous?.conditions !== undefined ? { conditions: previous.conditions } : {}),
  }, now);
  return { kind: 'computed', status, unmanagedPods: unmanaged, ...(disrupted.recheckAtMs !== undefined ? { recheckAtMs: disrupted.recheckAtMs } : {}) };
}

/** Whether writing `next` would change what is stored (conditions compared without their transition times' churn). */
export function budgetStatusChanged(current: PodDisruptionBudgetStatus | undefined, next: PodDisruptionBudgetStatus): boolean {
  return JSON.stringify(normalize(current)) !== JSON.stringify(normalize(next));
}

function normalize(status: PodDisruptionBudgetStatus | undefined): unknown {
  if (status === undefined) return null;
  const sortedPods = Object.entries(status.disruptedPods ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const conditions = (status.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime]);
  return [status.currentHealthy, status.desiredHealthy, status.expectedPods, status.disruptionsAllowed, status.observedGeneration ?? null, sortedPods, conditions];
}
