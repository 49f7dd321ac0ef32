/**
 * One HPA sync decided from its inputs alone (no cluster): the replica calculator's rules
 * (tolerance, ceil of ratio × ready pods, missing metrics taken at 100 % on a scale-down and 0 on a
 * scale-up, unready and initialising pods taken at 0 on a scale-up, AverageValue targets, requests
 * missing), the metrics API's PodMetrics read as samples, the min/max and zero-replica branches,
 * invalid metrics, the conditions and status Kubernetes writes, and the SuccessfulRescale reason.
 */
import { describe, expect, it } from 'vitest';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  decideAutoscale, emptyHistory, hpaStatusAfter, hpaStatusChanged, podSamples, utilizationReplicas, goDurationMs,
  type DecisionInputs, type PodMetricsItem,
} from '../../../actors/controllers/podautoscaler/index.js';

const wallMs = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const settings = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000, downscaleStabilizationMs: 300_000 };
const options = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000, nowMs: wallMs };

/** A pod started 10 minutes ago, ready since then, requesting `cpu` per container. */
function pod(name: string, extra: { ready?: boolean; phase?: string; cpu?: string; startedAgoMs?: number; readyAgoMs?: number } = {}): Pod {
  const started = wallMs - (extra.startedAgoMs ?? 600_000);
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'x', ...(extra.cpu !== '' ? { resources: { requests: { cpu: extra.cpu ?? '100m' } } } : {}) }] },
    status: {
      phase: extra.phase ?? 'Running', startTime: iso(started),
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True', lastTransitionTime: iso(wallMs - (extra.readyAgoMs ?? 590_000)) }],
    },
  };
}

function usage(name: string, cpu: string): PodMetricsItem {
  return { metadata: { name, namespace: 'ns' }, timestamp: iso(wallMs - 5_000), window: '15s', containers: [{ name: 'c', usage: { cpu, memory: '10Mi' } }] };
}

function hpa(spec: Partial<NonNullable<HorizontalPodAutoscaler['spec']>> = {}): HorizontalPodAutoscaler {
  return {
    metadata: { name: 'web', namespace: 'ns', generation: 2 },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  };
}

function inputs(overrides: Partial<DecisionInputs> & { replicas?: number } = {}): DecisionInputs {
  const { replicas = 2, ...rest } = overrides;
  return {
    hpa: hpa(), scale: { kind: 'ok', replicas, selector: 'app=web' },
    pods: [pod('a'), pod('b')], metrics: { kind: 'ok', items: [usage('a', '90m'), usage('b', '110m')] },
    nowMs: 1_000_000, wallMs, history: emptyHistory, settings, ...rest,
  };
}

describe('replica calculator', () => {
  const common = { currentReplicas: 2, resource: 'cpu', options };
  it('scales by ceil(ratio × ready pods) and keeps the count within the tolerance', () => {
    const pods = [pod('a'), pod('b')];
    expect(utilizationReplicas({ ...common, pods, targetUtilization: 50, metrics: podSamples([usage('a', '90m'), usage('b', '110m')], 'cpu') }))
      .toMatchObject({ kind: 'ok', replicas: 4, utilization: 100, averageMilli: 100 });
    expect(utilizationReplicas({ ...common, pods, targetUtilization: 50, metrics: podSamples([usage('a', '52m'), usage('b', '50m')], 'cpu') }))
      .toMatchObject({ kind: 'ok', replicas: 2, utilization: 51 });
  });
  it('takes a missing pod at 100 % of its request on a scale-down and 0 on a scale-up', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    // Down: a=10m, b=10m, c missing → (10+10+100)/300 = 40 % of a 50 % target: ratio 0.8 → ceil(0.8 × 3) = 3... stays.
    expect(utilizationReplicas({ ...common, currentReplicas: 3, pods, targetUtilization: 50, metrics: podSamples([usage('a', '10m'), usage('b', '10m')], 'cpu') }))
      .toMatchObject({ replicas: 3 });
    // Up: a=b=200m, c missing at 0 → 400/300 = 133 % → ratio 2.66 → ceil(2.66 × 3) = 8.
    expect(utilizationReplicas({ ...common, currentReplicas: 3, pods, targetUtilization: 50, metrics: podSamples([usage('a', '200m'), usage('b', '200m')], 'cpu') }))
      .toMatchObject({ replicas: 8, utilization: 200 });
  });
  it('takes unready and initialising pods at 0 on a scale-up; ignores deleting and failed pods', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { startedAgoMs: 20_000, readyAgoMs: 10_000 }), pod('d', { phase: 'Failed' })];
    const metrics = podSamples(['a', 'b', 'c', 'd'].map((n) => usage(n, '200m')), 'cpu');
    // Only a counts: 200 % → ratio 4; with b and c at 0: 200/300 = 66 % → 1.33 → ceil(1.33 × 3) = 4.
    expect(utilizationReplicas({ ...common, currentReplicas: 4, pods, targetUtilization: 50, metrics })).toMatchObject({ replicas: 4, utilization: 200 });
  });
  it('refuses pods without a request and says which', () => {
    expect(utilizationReplicas({ ...common, pods: [pod('a', { cpu: '' })], targetUtilization: 50, metrics: podSamples([usage('a', '1')], 'cpu') }))
      .toEqual({ kind: 'error', message: 'missing request for cpu in container c of Pod a' });
  });
  it('reads PodMetrics: sums containers, skips a pod lacking the resource, parses the window', () => {
    const items: PodMetricsItem[] = [
      { metadata: { name: 'a' }, timestamp: iso(wallMs), window: '15s', containers: [{ name: 'x', usage: { cpu: '250000000n' } }, { name: 'y', usage: { cpu: '50m' } }] },
      { metadata: { name: 'b' }, timestamp: iso(wallMs), window: '15s', containers: [{ name: 'x', usage: { memory: '1Ki' } }] },
    ];
    expect([...podSamples(items, 'cpu')]).toEqual([['a', { valueMilli: 300, timestampMs: wallMs, windowMs: 15_000 }]]);
    expect(podSamples(items, 'cpu', 'y').get('a')?.valueMilli).toBe(50);
    expect(goDurationMs('1m30s')).toBe(90_000);
  });
});

describe('decideAutoscale', () => {
  it('scales up on high CPU with the reason Kubernetes prints', () => {
    const d = decideAutoscale(inputs());
    expect(d).toMatchObject({ currentReplicas: 2, desiredReplicas: 4, rescale: true, reason: 'cpu resource utilization (percentage of request) above target' });
    expect(d.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '100m', averageUtilization: 100 } } }]);
    const status = hpaStatusAfter(hpa(), d, { kind: 'rescaled' }, wallMs);
    expect(status).toMatchObject({ currentReplicas: 2, desiredReplicas: 4, lastScaleTime: iso(wallMs), observedGeneration: 2 });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['AbleToScale', 'True', 'SucceededRescale'], ['ScalingActive', 'True', 'ValidMetricFound'], ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ]);
  });
  it('holds a scale-down inside the default window, then lets it through', () => {
    const low = { kind: 'ok' as const, items: [usage('a', '10m'), usage('b', '10m')] };
    const first = decideAutoscale(inputs({ history: { ...emptyHistory, recommendations: [{ replicas: 2, atMs: 900_000 }] }, metrics: low }));
    expect(first).toMatchObject({ desiredReplicas: 2, rescale: false });
    expect(first.conditions).toContainEqual(expect.objectContaining({ type: 'AbleToScale', reason: 'ScaleDownStabilized' }));
    const later = decideAutoscale(inputs({ history: first.history, metrics: low, nowMs: 1_000_000 + 301_000 }));
    expect(later).toMatchObject({ desiredReplicas: 1, rescale: true, reason: 'All metrics below target' });
  });
  it('brings a count outside min/max back to the bound', () => {
    expect(decideAutoscale(inputs({ replicas: 12 }))).toMatchObject({ desiredReplicas: 10, rescale: true, reason: 'Current number of replicas above Spec.MaxReplicas' });
    expect(decideAutoscale(inputs({ hpa: hpa({ minReplicas: 3 }) }))).toMatchObject({ desiredReplicas: 3, reason: 'Current number of replicas below Spec.MinReplicas' });
  });
  it('treats a target scaled to zero as autoscaling disabled', () => {
    const d = decideAutoscale(inputs({ replicas: 0 }));
    expect(d).toMatchObject({ desiredReplicas: 0, rescale: false });
    expect(d.conditions).toContainEqual(expect.objectContaining({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }));
  });
  it('reports unusable metrics without deciding', () => {
    const d = decideAutoscale(inputs({ metrics: { kind: 'error', message: 'the server could not find the requested resource' }, hpa: { ...hpa(), status: { desiredReplicas: 2 } } }));
    expect(d).toMatchObject({ rescale: false, desiredReplicas: 2 });
    expect(d.failure).toMatch(/^invalid metrics \(1 invalid out of 1\), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics/);
    expect(d.conditions).toContainEqual(expect.objectContaining({ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' }));
    expect(d.events.map((e) => e.reason)).toEqual(['FailedGetResourceMetric', 'FailedComputeMetricsReplicas']);
  });
  it('an unreadable scale sets AbleToScale False FailedGetScale and keeps the status', () => {
    const d = decideAutoscale(inputs({ scale: { kind: 'error', message: 'deployments.apps "web" not found' } }));
    const status = hpaStatusAfter({ ...hpa(), status: { currentReplicas: 3, desiredReplicas: 3 } }, d, { kind: 'none' }, wallMs);
    expect(status).toMatchObject({ currentReplicas: 3, desiredReplicas: 3 });
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' })]);
  });
  it('AverageValue and the largest of several metrics wins', () => {
    const both = hpa({ maxReplicas: 5, metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 200 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '2Mi' } } },
    ] });
    const d = decideAutoscale(inputs({ hpa: both }));
    // memory: 10Mi / 2Mi = 5 → 10 pods; the rate allows 6 (4 pods per 15 s); maxReplicas 5 binds first.
    expect(d).toMatchObject({ desiredReplicas: 5, reason: 'memory resource above target' });
    expect(d.conditions).toContainEqual(expect.objectContaining({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' }));
  });
  it('a status that did not change is not rewritten', () => {
    const d = decideAutoscale(inputs({ metrics: { kind: 'ok', items: [usage('a', '50m'), usage('b', '50m')] } }));
    const status = hpaStatusAfter(hpa(), d, { kind: 'none' }, wallMs);
    expect(hpaStatusChanged(undefined, status)).toBe(true);
    const again = hpaStatusAfter({ ...hpa(), status }, d, { kind: 'none' }, wallMs + 15_000);
    expect(hpaStatusChanged(status, again)).toBe(false);
  });
});
