/**
 * The quota count, exactly: every tracked name recomputed from the namespace's objects (terminal
 * pods hold nothing; requests and limits as Kubernetes' PodRequests/PodLimits; services by type;
 * PVC storage by class; other count/ names from the caller), formatted as admission formats them;
 * the status written only when it changes by value; a lowering detected; the sync-period flag.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { lowersUsage, quotaUsage, quotaWithStatus, syncPeriodMs, type NamespaceObjects } from '../../actors/controllers/resourcequota/index.js';
import { podLimits } from '../../actors/objects/index.js';

const pod = (name: string, requests: Record<string, string>, limits: Record<string, string>, phase = 'Running'): Pod => ({
  metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests, limits } }] },
  status: { phase },
});

const objects = (extra: Partial<NamespaceObjects> = {}): NamespaceObjects => ({
  pods: [], services: [], configmaps: 0, secrets: 0, resourcequotas: 1, persistentvolumeclaims: [], otherCounts: new Map(), ...extra,
});

describe('ResourceQuota usage', () => {
  it('counts live pods and their requests and limits; a terminal pod holds nothing', () => {
    const pods = [
      pod('a', { cpu: '250m', memory: '64Mi' }, { cpu: '500m', memory: '128Mi' }),
      pod('b', { cpu: '1', memory: '1Gi' }, { cpu: '2', memory: '1Gi' }),
      pod('done', { cpu: '4', memory: '4Gi' }, { cpu: '4', memory: '4Gi' }, 'Succeeded'),
    ];
    const names = ['pods', 'count/pods', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];
    expect(quotaUsage(names, objects({ pods }))).toEqual({
      'count/pods': '2', cpu: '1250m', 'limits.cpu': '2500m', 'limits.memory': '1152Mi', memory: '1088Mi', pods: '2', 'requests.cpu': '1250m', 'requests.memory': '1088Mi',
    });
  });

  it('counts services by type, node ports, configmaps, secrets, quotas, claims and storage by class, and other count/ names', () => {
    const used = quotaUsage(['services', 'services.loadbalancers', 'services.nodeports', 'configmaps', 'count/secrets', 'resourcequotas',
      'persistentvolumeclaims', 'requests.storage', 'fast.storageclass.storage.k8s.io/requests.storage', 'fast.storageclass.storage.k8s.io/persistentvolumeclaims',
      'count/deployments.apps', 'count/widgets.example.com', 'unknown-name'], objects({
      services: [
        { spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
        { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }, { port: 81, nodePort: 30002 }] } },
        { spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30003 }] } },
      ],
      configmaps: 3, secrets: 2,
      persistentvolumeclaims: [
        { spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } },
        { spec: { storageClassName: 'slow', resources: { requests: { storage: '512Mi' } } } },
      ],
      otherCounts: new Map([['count/deployments.apps', 4]]),
    }));
    expect(used).toEqual({
      'configmaps': '3', 'count/deployments.apps': '4', 'count/secrets': '2', 'fast.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
      'fast.storageclass.storage.k8s.io/requests.storage': '1Gi', 'persistentvolumeclaims': '2', 'requests.storage': '1536Mi', 'resourcequotas': '1',
      'services': '3', 'services.loadbalancers': '1', 'services.nodeports': '3',
    });
  });

  it('pod limits as Kubernetes PodLimits: init containers at least, sidecars added, overhead only on limited resources', () => {
    expect(podLimits({ spec: {
      containers: [{ name: 'a', resources: { limits: { cpu: '1' } } }],
      initContainers: [
        { name: 'side', restartPolicy: 'Always', resources: { limits: { cpu: '500m' } } },
        { name: 'init', resources: { limits: { cpu: '3', memory: '1Gi' } } },
      ],
      overhead: { cpu: '100m', 'example.com/x': '1' },
    } })).toEqual({ cpu: 3.6, memory: 2 ** 30 });
  });

  it('writes status only when it changes by value, mirroring spec.hard', () => {
    const quota: ResourceQuota = { metadata: { name: 'q', namespace: 'ns', resourceVersion: '9' }, spec: { hard: { pods: '10', 'requests.memory': '1Gi' } } };
    const next = quotaWithStatus(quota, { pods: '2', 'requests.memory': '512Mi' });
    expect(next).toEqual({ ...quota, status: { hard: { pods: '10', 'requests.memory': '1Gi' }, used: { pods: '2', 'requests.memory': '512Mi' } } });
    expect(quotaWithStatus(next as ResourceQuota, { pods: '2', 'requests.memory': '536870912' })).toBeNull();
    expect(quotaWithStatus(next as ResourceQuota, { pods: '1', 'requests.memory': '512Mi' })?.status?.used).toEqual({ pods: '1', 'requests.memory': '512Mi' });
  });

  it('detects a lowering (to be confirmed live) and not a rise', () => {
    expect(lowersUsage({ pods: '3', cpu: '1' }, { pods: '2', cpu: '2' })).toBe(true);
    expect(lowersUsage({ pods: '3' }, { pods: '4', cpu: '1' })).toBe(false);
    expect(lowersUsage({}, { pods: '0' })).toBe(false);
  });

  it('--resource-quota-sync-period: 5 min by default, at least 1 s', () => {
    expect(syncPeriodMs({})).toBe(300_000);
    expect(syncPeriodMs({ resourceQuotaSyncPeriod: '10ms', resourceQuotaSyncPeriodMs: 10 })).toBe(1000);
    expect(syncPeriodMs({ resourceQuotaSyncPeriod: '30s', resourceQuotaSyncPeriodMs: 30_000 })).toBe(30_000);
  });
});
