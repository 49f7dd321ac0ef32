/**
 * The HPA's `behavior` as pure functions: defaults (0 s up / 300 s down windows, Kubernetes'
 * default policies), stabilization over the recommendation history (lowest of the up window,
 * highest of the down window), the rate policies (Pods, Percent, selectPolicy Max / Min /
 * Disabled, events inside each period), the min/max clamp with its ScalingLimited reasons, and
 * the bounded histories (old samples reused in place).
 */
import { describe, expect, it } from 'vitest';
import {
  emptyHistory, limitRate, recordScale, resolveBehavior, scaleDownLimit, scaleUpLimit, stabilize, type ScaleEvent,
} from '../../../actors/controllers/podautoscaler/index.js';

const s = 1000;

describe('resolveBehavior', () => {
  it('fills in Kubernetes defaults', () => {
    const b = resolveBehavior(undefined);
    expect(b.scaleUp).toEqual({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
    expect(b.scaleDown).toEqual({ stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  });
  it('keeps what is given and takes the downscale default from the flag', () => {
    const b = resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } }, 120_000);
    expect(b.scaleDown).toEqual({ stabilizationWindowSeconds: 5, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] });
    expect(resolveBehavior({}, 120_000).scaleDown.stabilizationWindowSeconds).toBe(120);
  });
});

describe('stabilize', () => {
  const behavior = resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 60 } });
  it('holds a scale-down at the highest recommendation of the window', () => {
    const recommendations = [{ replicas: 8, atMs: 100 * s }, { replicas: 6, atMs: 130 * s }];
    const out = stabilize({ current: 8, desired: 3, nowMs: 150 * s, behavior, recommendations });
    expect(out.replicas).toBe(8);
    expect(out.reason).toBe('ScaleDownStabilized');
    expect(out.recommendations).toEqual([...recommendations, { replicas: 3, atMs: 150 * s }]);
  });
  it('lets the scale-down through once the higher samples left the window', () => {
    const recommendations = [{ replicas: 8, atMs: 100 * s }, { replicas: 6, atMs: 130 * s }];
    const out = stabilize({ current: 8, desired: 3, nowMs: 175 * s, behavior, recommendations });
    expect(out.replicas).toBe(6);
    // The 8 is older than both windows: its slot holds the new sample.
    expect(out.recommendations).toEqual([{ replicas: 3, atMs: 175 * s }, { replicas: 6, atMs: 130 * s }]);
    expect(stabilize({ current: 8, desired: 3, nowMs: 200 * s, behavior, recommendations }).replicas).toBe(3);
  });
  it('scales up at once with the default 0 s up window', () => {
    const out = stabilize({ current: 2, desired: 7, nowMs: 10 * s, behavior, recommendations: [{ replicas: 2, atMs: 9 * s }] });
    expect(out).toMatchObject({ replicas: 7, reason: 'ReadyForNewScale' });
  });
  it('holds a scale-up at the lowest recommendation of an up window', () => {
    const up = resolveBehavior({ scaleUp: { stabilizationWindowSeconds: 30 } });
    const out = stabilize({ current: 2, desired: 7, nowMs: 40 * s, behavior: up, recommendations: [{ replicas: 4, atMs: 20 * s }] });
    expect(out).toMatchObject({ replicas: 4, reason: 'ScaleUpStabilized' });
  });
});

describe('rate policies', () => {
  const events: ScaleEvent[] = [{ change: 3, atMs: 50 * s, outdated: false }, { change: 2, atMs: 10 * s, outdated: false }];
  it('Pods and Percent with Max take the larger allowance, counting events inside the period', () => {
    const rules = resolveBehavior(undefined).scaleUp;
    // period start = 10 − 3 (the event at 50 s is inside 15 s of 60 s): Pods 7+4 = 11, Percent ceil(7×2) = 14.
    expect(scaleUpLimit(10, events, rules, 60 * s)).toBe(14);
    expect(scaleUpLimit(10, [], { ...rules, selectPolicy: 'Min' }, 60 * s)).toBe(14);
    expect(scaleUpLimit(10, [], { ...rules, selectPolicy: 'Disabled' }, 60 * s)).toBe(10);
  });
  it('scale-down: Percent truncates, Pods subtracts, Min takes the smaller change', () => {
    const rules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }, { type: 'Pods', value: 2, periodSeconds: 60 }] };
    // period start = 9 + 3 + 2 = 14 (both events within 60 s of 60 s): Percent 7, Pods 12; Max → 7, Min → 12.
    expect(scaleDownLimit(9, events, rules, 60 * s)).toBe(7);
    expect(scaleDownLimit(9, events, { ...rules, selectPolicy: 'Min' }, 60 * s)).toBe(12);
    expect(scaleDownLimit(9, events, { ...rules, selectPolicy: 'Disabled' }, 60 * s)).toBe(9);
  });
  it('limitRate names the bound that applied', () => {
    const behavior = resolveBehavior(undefined);
    const base = { minReplicas: 1, maxReplicas: 10, nowMs: 100 * s, behavior, history: emptyHistory };
    expect(limitRate({ ...base, current: 2, desired: 9 })).toMatchObject({ replicas: 6, reason: 'ScaleUpLimit' });
    expect(limitRate({ ...base, current: 8, desired: 30 })).toMatchObject({ replicas: 10, reason: 'TooManyReplicas' });
    expect(limitRate({ ...base, current: 3, desired: 0 })).toMatchObject({ replicas: 1, reason: 'TooFewReplicas' });
    expect(limitRate({ ...base, current: 3, desired: 5 })).toMatchObject({ replicas: 5, reason: 'DesiredWithinRange' });
    const slow = resolveBehavior({ scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
    expect(limitRate({ ...base, behavior: slow, current: 5, desired: 2 })).toMatchObject({ replicas: 4, reason: 'ScaleDownLimit' });
  });
});

describe('recordScale', () => {
  it('records changes per direction and reuses outdated slots', () => {
    const behavior = resolveBehavior(undefined);
    let history = recordScale(emptyHistory, { from: 2, to: 6, nowMs: 10 * s, behavior });
    expect(history.scaleUpEvents).toEqual([{ change: 4, atMs: 10 * s, outdated: false }]);
    history = recordScale(history, { from: 6, to: 8, nowMs: 40 * s, behavior });
    expect(history.scaleUpEvents).toEqual([{ change: 2, atMs: 40 * s, outdated: false }]);
    history = recordScale(history, { from: 8, to: 5, nowMs: 41 * s, behavior });
    expect(history.scaleDownEvents).toEqual([{ change: 3, atMs: 41 * s, outdated: false }]);
    expect(recordScale(history, { from: 5, to: 5, nowMs: 50 * s, behavior })).toBe(history);
  });
});
