/** autoscaling/v1 ↔ v2 HorizontalPodAutoscaler conversion: what v1 can say, and a lossless round trip. */
import { describe, expect, it } from 'vitest';
import { hpaToV1, hpaToV2 } from '../../actors/apiserver/registry/hpa-conversion.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const v2: KubeObject = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { team: 'a' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  status: {
    currentReplicas: 2, desiredReplicas: 3,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }],
    conditions: [{ type: 'AbleToScale', status: 'True' }],
  },
} as KubeObject;

describe('HPA conversion', () => {
  it('shows the CPU target and current utilization as v1 fields, the rest in annotations', () => {
    const v1 = hpaToV1(v2) as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
    expect(v1.spec).toEqual({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
    expect(v1.status).toEqual({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 });
    expect(JSON.parse(v1.metadata.annotations?.['autoscaling.alpha.kubernetes.io/metrics'] ?? '')).toHaveLength(1);
    expect(v1.metadata.annotations?.['team']).toBe('a');
  });

  it('round-trips v2 → v1 → v2 without loss', () => {
    expect(hpaToV2(hpaToV1(v2))).toEqual(v2);
  });

  it('turns a v1 CPU target into a v2 metric, and ignores a malformed annotation', () => {
    const v1: KubeObject = {
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', annotations: { 'autoscaling.alpha.kubernetes.io/metrics': '{not json' } },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 70 },
    } as KubeObject;
    const converted = hpaToV2(v1) as KubeObject & { spec: Record<string, unknown> };
    expect(converted.apiVersion).toBe('autoscaling/v2');
    expect(converted.spec['metrics']).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(converted.metadata.annotations).toBeUndefined();
  });
});
