/**
 * The eviction rules under PodDisruptionBudgets (http/eviction-budget.ts), as pure functions:
 * which pods a budget protects, when a disruption is spent, and the exact 429 Kubernetes answers
 * (message, DisruptionBudget cause, no Retry-After so kubectl drain paces its own retries).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { planEviction, spendDisruption } from '../../actors/apiserver/http/eviction-budget.js';
import { ApiError } from '../../actors/apiserver/status.js';

const running = (name: string, ready: boolean, labels: Record<string, string> = { app: 'web' }): Pod => ({
  metadata: { name, namespace: 'ns', labels, resourceVersion: '7' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const budget = (status: Partial<NonNullable<PodDisruptionBudget['status']>>, spec: PodDisruptionBudget['spec'] = { minAvailable: 2, selector: { matchLabels: { app: 'web' } } }): PodDisruptionBudget => ({
  metadata: { name: 'web', namespace: 'ns', generation: 1 },
  spec,
  status: { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1, ...status },
});
const refusal = (fn: () => unknown): ApiError => {
  try { fn(); } catch (error) { if (error instanceof ApiError) return error; throw error; }
  throw new Error('not refused');
};

describe('planEviction', () => {
  it('deletes pods no budget protects: uncovered, pending, finished or already deleting', () => {
    expect(planEviction(running('a', true, { app: 'db' }), [budget({})])).toEqual({ kind: 'delete' });
    expect(planEviction({ ...running('a', true), status: { phase: 'Pending' } }, [budget({})])).toEqual({ kind: 'delete' });
    expect(planEviction({ ...running('a', true), status: { phase: 'Succeeded' } }, [budget({})])).toEqual({ kind: 'delete' });
    expect(planEviction({ ...running('a', true), metadata: { ...running('a', true).metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, [budget({})])).toEqual({ kind: 'delete' });
    // A budget without a selector selects nothing (policy/v1).
    expect(planEviction(running('a', true), [budget({}, { minAvailable: 1 })])).toEqual({ kind: 'delete' });
  });

  it('spends the budget of a ready pod; refuses a pod under two budgets', () => {
    expect(planEviction(running('a', true), [budget({})]).kind).toBe('spend');
    const two = refusal(() => planEviction(running('a', true), [budget({}), { ...budget({}), metadata: { name: 'other', namespace: 'ns' } }]));
    expect([two.httpStatus, two.message]).toEqual([500, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.']);
  });

  it('lets an unready pod go without spending when the budget is met (IfHealthyBudget) or always (AlwaysAllow)', () => {
    expect(planEviction(running('a', false), [budget({ currentHealthy: 2, disruptionsAllowed: 0 })])).toEqual({ kind: 'delete', podResourceVersion: '7' });
    expect(planEviction(running('a', false), [budget({ currentHealthy: 1, disruptionsAllowed: 0 })]).kind).toBe('spend');
    const always = budget({ currentHealthy: 1, disruptionsAllowed: 0 }, { minAvailable: 2, selector: { matchLabels: { app: 'web' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(planEviction(running('a', false), [always])).toEqual({ kind: 'delete', podResourceVersion: '7' });
  });
});

describe('spendDisruption', () => {
  it('decrements disruptionsAllowed, records the pod, and turns the condition False at 0', () => {
    const out = spendDisruption(budget({}), 'a', '2026-12-02T20:00:00Z');
    expect(out.status?.disruptionsAllowed).toBe(0);
    expect(out.status?.disruptedPods).toEqual({ a: '2026-12-02T20:00:00Z' });
    expect(out.status?.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
  });

  it('answers 429 with Kubernetes\' message and cause when no disruption is left', () => {
    const error = refusal(() => spendDisruption(budget({ currentHealthy: 2, disruptionsAllowed: 0 }), 'a', '2026-12-02T20:00:00Z'));
    expect(error.toStatus()).toMatchObject({
      code: 429, reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });
    expect(error.details?.retryAfterSeconds).toBeUndefined();
  });

  it('answers 429 while the controller has not computed the current generation', () => {
    const error = refusal(() => spendDisruption({ ...budget({ observedGeneration: 1 }), metadata: { name: 'web', namespace: 'ns', generation: 2 } }, 'a', 'now'));
    expect([error.httpStatus, error.details?.causes?.[0]?.message]).toEqual([429, 'The disruption budget web is still being processed by the server.']);
  });
});
