/**
 * The disruption controller's status computation (disruption/budget-status.ts) against
 * Kubernetes' rules: integer and percent minAvailable, maxUnavailable over the controllers'
 * replicas, pods being deleted or just evicted not counted healthy, nothing allowed while no pod is
 * expected, and the SyncFailed fail-safe when a pod's controller is gone.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { budgetStatusChanged, computeBudgetStatus, scaledValue, type PodController } from '../../actors/controllers/disruption/index.js';

const nowMs = Date.parse('2026-12-02T20:00:00Z');
const pod = (name: string, ready: boolean, extra: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: { name, namespace: 'ns', labels: { app: 'web' }, ...extra },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const budget = (spec: Omit<NonNullable<PodDisruptionBudget['spec']>, 'selector'>, status?: PodDisruptionBudget['status']): PodDisruptionBudget => ({
  metadata: { name: 'web', namespace: 'ns', generation: 3 },
  spec: { ...spec, selector: { matchLabels: { app: 'web' } } },
  ...(status !== undefined ? { status } : {}),
});
const scaled = (replicas: number): ((pod: Pod) => PodController) => () => ({ kind: 'scaled', uid: 'deploy-1', replicas });

describe('computeBudgetStatus', () => {
  it('integer minAvailable: expected = selected pods, allowed = healthy - desired', () => {
    const result = computeBudgetStatus({ budget: budget({ minAvailable: 2 }), pods: [pod('a', true), pod('b', true), pod('c', true), pod('d', false)], controllerOf: scaled(4), nowMs });
    expect(result.kind).toBe('computed');
    expect(result.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 1, observedGeneration: 3 });
    expect(result.status.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 3, lastTransitionTime: '2026-12-02T20:00:00Z' }]);
  });

  it('maxUnavailable and percent minAvailable count the controller\'s replicas, rounding up', () => {
    const pods = [pod('a', true), pod('b', true), pod('c', true)];
    expect(computeBudgetStatus({ budget: budget({ maxUnavailable: 1 }), pods, controllerOf: scaled(5), nowMs }).status)
      .toMatchObject({ expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });
    expect(computeBudgetStatus({ budget: budget({ minAvailable: '50%' }), pods, controllerOf: scaled(5), nowMs }).status)
      .toMatchObject({ expectedPods: 5, desiredHealthy: 3, disruptionsAllowed: 0 });
    expect(computeBudgetStatus({ budget: budget({ maxUnavailable: '25%' }), pods, controllerOf: scaled(3), nowMs }).status)
      .toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect(scaledValue('25%', 10)).toBe(3);
  });

  it('does not count pods being deleted or evicted less than two minutes ago; expired evictions count again', () => {
    const deleting = pod('a', true, { deletionTimestamp: '2026-12-02T19:59:00Z' });
    const recent = '2026-12-02T19:59:30Z';
    const old = '2026-12-02T19:50:00Z';
    const result = computeBudgetStatus({
      budget: budget({ minAvailable: 1 }, { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, disruptedPods: { b: recent, c: old, a: recent } }),
      pods: [deleting, pod('b', true), pod('c', true), pod('d', true)], controllerOf: scaled(4), nowMs,
    });
    expect(result.status).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1, disruptedPods: { b: recent } });
    expect(result.kind === 'computed' ? result.recheckAtMs : undefined).toBe(Date.parse(recent) + 120_000);
  });

  it('allows nothing while no pod is expected, and fails safe when a controller is gone', () => {
    expect(computeBudgetStatus({ budget: budget({ maxUnavailable: 1 }), pods: [], controllerOf: scaled(0), nowMs }).status)
      .toMatchObject({ expectedPods: 0, disruptionsAllowed: 0, conditions: [{ status: 'False', reason: 'InsufficientPods' }] });
    const failed = computeBudgetStatus({ budget: budget({ maxUnavailable: 1 }), pods: [pod('a', true)], controllerOf: () => ({ kind: 'missing' }), nowMs });
    expect(failed.kind).toBe('failed');
    expect(failed.status.disruptionsAllowed).toBe(0);
    expect(failed.status.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "a"' });
  });

  it('lists unmanaged pods instead of failing', () => {
    const result = computeBudgetStatus({ budget: budget({ maxUnavailable: 1 }), pods: [pod('a', true), pod('b', true)], controllerOf: (p) => (p.metadata?.name === 'a' ? { kind: 'unmanaged' } : { kind: 'scaled', uid: 'rs', replicas: 2 }), nowMs });
    expect(result.kind === 'computed' ? result.unmanagedPods : []).toEqual(['a']);
  });

  it('a status computed twice from the same facts is not written again', () => {
    const first = computeBudgetStatus({ budget: budget({ minAvailable: 1 }), pods: [pod('a', true)], controllerOf: scaled(1), nowMs });
    const second = computeBudgetStatus({ budget: budget({ minAvailable: 1 }, first.status), pods: [pod('a', true)], controllerOf: scaled(1), nowMs: nowMs + 5_000 });
    expect(budgetStatusChanged(first.status, second.status)).toBe(false);
    expect(budgetStatusChanged(undefined, first.status)).toBe(true);
  });
});
