/**
 * The HPA controller's glue on a stub cluster (informers, API, events), for what a real cluster
 * cannot stage on demand:
 * - a sync reads the scale subresource and PodMetrics, writes the new scale, records
 *   SuccessfulRescale, writes the status, and asks for the next sync one period later (the
 *   `--horizontal-pod-autoscaler-sync-period` flag);
 * - a scale write that fails records FailedRescale and AbleToScale False FailedUpdateScale, and
 *   the HPA is still synced next period (a failed sync is never dropped);
 * - a status write meeting a 409 is put on the stored object;
 * - a target kind without a scale subresource is FailedGetScale; a deleted HPA is not requeued.
 */
import { describe, expect, it } from 'vitest';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock, type Logger } from '../../../bus/index.js';
import { horizontalPodAutoscalerController } from '../../../actors/controllers/podautoscaler/index.js';
import { ConflictError, type ControllerContext, type WorkQueue } from '../../../actors/controllers/runtime/index.js';
import type { KubeObject } from '../../../actors/objects/index.js';

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string): Pod & KubeObject {
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', startTime: iso(Date.now() - 600_000), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(Date.now() - 590_000) }] },
  } as unknown as Pod & KubeObject;
}

function autoscaler(kind = 'Deployment'): HorizontalPodAutoscaler & KubeObject {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'ns', generation: 1, resourceVersion: '5' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind, name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
  } as unknown as HorizontalPodAutoscaler & KubeObject;
}

function stub(options: { hpa?: HorizontalPodAutoscaler & KubeObject; failScale?: boolean; conflictStatusOnce?: boolean } = {}) {
  const hpas = new Map<string, KubeObject>([['ns/web', options.hpa ?? autoscaler()]]);
  const pods = [pod('a')];
  let replicas = 1;
  let conflicted = false;
  const calls: string[] = [];
  const events: string[] = [];
  const statuses: HorizontalPodAutoscaler['status'][] = [];
  const informer = (resource: { resource: string }) => ({
    get: (key: string) => (resource.resource === 'horizontalpodautoscalers' ? hpas.get(key) : undefined),
    matching: () => (resource.resource === 'pods' ? pods : []),
    addHandlers: () => () => undefined,
  });
  const api = {
    async get(resource: { resource: string }, _ns: string, name: string, opts?: { subresource?: string }) {
      calls.push(`get ${resource.resource}/${name}${opts?.subresource !== undefined ? `/${opts.subresource}` : ''}`);
      if (opts?.subresource === 'scale') return { kind: 'Scale', metadata: { name, namespace: 'ns', resourceVersion: '7' }, spec: { replicas }, status: { replicas, selector: 'app=web' } };
      return { ...hpas.get(`ns/${name}`), metadata: { ...hpas.get(`ns/${name}`)?.metadata, resourceVersion: '9' } };
    },
    async list(resource: { group: string; resource: string }) {
      calls.push(`list ${resource.group}/${resource.resource}`);
      return { items: [{ metadata: { name: 'a', namespace: 'ns' }, timestamp: iso(Date.now()), window: '15s', containers: [{ name: 'c', usage: { cpu: '200000000n' } }] }], resourceVersion: '' };
    },
    async update(resource: { resource: string }, _ns: string, name: string, body: KubeObject & { spec?: { replicas?: number }; status?: HorizontalPodAutoscaler['status'] }, opts?: { subresource?: string }) {
      calls.push(`update ${resource.resource}/${name}/${opts?.subresource ?? ''} rv=${body.metadata.resourceVersion ?? ''}`);
      if (opts?.subresource === 'scale') {
        if (options.failScale === true) throw new Error('admission webhook denied the request');
        replicas = body.spec?.replicas ?? replicas;
        return body;
      }
      if (options.conflictStatusOnce === true && !conflicted) {
        conflicted = true;
        throw new ConflictError(409, 'Conflict', 'the object has been modified', undefined, undefined);
      }
      statuses.push(body.status);
      return body;
    },
  };
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
  const ctx = {
    api, informers: { informer, waitForSync: async () => undefined },
    events: { record: (_o: KubeObject, type: string, reason: string, message: string) => events.push(`${type} ${reason}: ${message}`) },
    clock: new SimulatedClock(), logger: silent, options: { horizontalPodAutoscalerSyncPeriodMs: 1_000 },
  } as unknown as ControllerContext;
  const queue = {} as WorkQueue;
  return { ctx, queue, calls, events, statuses, hpas, replicas: () => replicas };
}

describe('the HPA controller glue', () => {
  it('scales, records the event, writes the status and requeues after the sync period', async () => {
    const s = stub();
    const result = await horizontalPodAutoscalerController.reconcile('ns/web', s.ctx, s.queue);
    expect(result).toEqual({ requeueAfterMs: 1_000 });
    expect(s.replicas()).toBe(4);
    expect(s.calls).toEqual([
      'get deployments/web/scale', 'list metrics.k8s.io/pods', 'update deployments/web/scale rv=7', 'update horizontalpodautoscalers/web/status rv=5',
    ]);
    expect(s.events).toEqual(['Normal SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target']);
    expect(s.statuses[0]).toMatchObject({ currentReplicas: 1, desiredReplicas: 4, observedGeneration: 1 });
  });

  it('a failed scale write is reported and the HPA synced again next period', async () => {
    const s = stub({ failScale: true });
    expect(await horizontalPodAutoscalerController.reconcile('ns/web', s.ctx, s.queue)).toEqual({ requeueAfterMs: 1_000 });
    expect(s.events).toEqual(['Warning FailedRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target; error: admission webhook denied the request']);
    expect(s.statuses[0]?.desiredReplicas).toBe(0);
    expect(s.statuses[0]?.conditions?.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedUpdateScale' });
  });

  it('a status write meeting a 409 goes onto the stored object', async () => {
    const s = stub({ conflictStatusOnce: true });
    await horizontalPodAutoscalerController.reconcile('ns/web', s.ctx, s.queue);
    expect(s.calls.slice(-3)).toEqual(['update horizontalpodautoscalers/web/status rv=5', 'get horizontalpodautoscalers/web', 'update horizontalpodautoscalers/web/status rv=9']);
    expect(s.statuses).toHaveLength(1);
  });

  it('a target without a scale subresource is FailedGetScale; a deleted HPA is not requeued', async () => {
    const s = stub({ hpa: autoscaler('ConfigMap') });
    await horizontalPodAutoscalerController.reconcile('ns/web', s.ctx, s.queue);
    expect(s.events).toEqual(['Warning FailedGetScale: no matches for kind "ConfigMap" in group "apps"']);
    expect(s.statuses[0]?.conditions).toEqual([expect.objectContaining({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' })]);
    s.hpas.clear();
    expect(await horizontalPodAutoscalerController.reconcile('ns/web', s.ctx, s.queue)).toBeUndefined();
  });
});
