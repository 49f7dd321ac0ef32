/**
 * Server-side Tables: kubectl's column sets and cell wording per kind, includeObject variants,
 * kubectl's HumanDuration ages against an injected now, and robustness to garbage stored objects.
 */
import { describe, expect, it } from 'vitest';
import { humanDuration, printerFor, toTable } from '../../actors/apiserver/table.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { fixture, resource, validObjects } from './object-fixtures.js';

const now = Date.parse('2026-11-24T12:00:00Z');
const minutesAgo = (m: number): string => new Date(now - m * 60_000).toISOString();
const opts = { resourceVersion: '42', includeObject: 'Metadata' as const, now };

const headers = (kind: string, priority: number): string[] => {
  const [info, object] = fixture(kind);
  return (toTable(info, [object], opts).columnDefinitions ?? []).filter((c) => c.priority === priority).map((c) => c.name);
};

describe('humanDuration', () => {
  it.each([
    [0, '0s'], [-500, '0s'], [-5000, '<invalid>'], [59_000, '59s'], [119_000, '119s'], [120_000, '2m'], [330_000, '5m30s'],
    [600_000, '10m'], [179 * 60_000, '179m'], [3 * 3600_000, '3h'], [(3 * 60 + 10) * 60_000, '3h10m'], [10 * 3600_000, '10h'],
    [47 * 3600_000, '47h'], [50 * 3600_000, '2d2h'], [72 * 3600_000, '3d'], [30 * 86400_000, '30d'], [800 * 86400_000, '2y70d'],
    [9 * 365 * 86400_000, '9y'],
  ])('%d ms is %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe('toTable', () => {
  it('has the Table envelope, Metadata objects by default, and continue tokens', () => {
    const [info, pod] = fixture('Pod');
    pod.metadata.creationTimestamp = minutesAgo(5);
    const table = toTable(info, [pod], { ...opts, continue: 'abc' });
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '42', continue: 'abc' } });
    expect(table.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
    expect(toTable(info, [pod], { ...opts, includeObject: 'Object' }).rows[0]!.object).toEqual(pod);
    expect(toTable(info, [pod], { ...opts, includeObject: 'None' }).rows[0]!.object).toBeUndefined();
    expect(toTable(info, [pod], { ...opts, omitColumnDefinitions: true }).columnDefinitions).toBeUndefined();
    expect(toTable(info, [pod], { ...opts, now: new Date(now) }).rows[0]!.cells[4]).toBe('5m');
    // Exactly one column is the name column kubectl prefixes with kind/ in `get all`.
    expect(table.columnDefinitions!.filter((c) => c.format === 'name').map((c) => c.name)).toEqual(['Name']);
  });

  it('uses kubectl column sets', () => {
    expect(headers('Pod', 0)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(headers('Pod', 1)).toEqual(['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(headers('Deployment', 0)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(headers('Deployment', 1)).toEqual(['Containers', 'Images', 'Selector']);
    expect(headers('ReplicaSet', 0)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Age']);
    expect(headers('Service', 0)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age']);
    expect(headers('Node', 0)).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version']);
    expect(headers('Namespace', 0)).toEqual(['Name', 'Status', 'Age']);
    expect(headers('ConfigMap', 0)).toEqual(['Name', 'Data', 'Age']);
    expect(headers('Secret', 0)).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(headers('Event', 0)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    expect(headers('Lease', 0)).toEqual(['Name', 'Holder', 'Age']);
    expect(headers('PersistentVolumeClaim', 0)).toEqual(['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age']);
    expect(headers('HorizontalPodAutoscaler', 0)).toEqual(['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
    expect(headers('Role', 0)).toEqual(['Name', 'Created At']);
  });

  it('prints pod status like kubectl: ready counts, waiting reasons, restarts, init progress, terminating', () => {
    const [info, base] = fixture('Pod');
    const row = (status: unknown, extra: Partial<KubeObject['metadata']> = {}, spec?: unknown): unknown[] => {
      const pod = structuredClone(base);
      pod.metadata = { ...pod.metadata, creationTimestamp: minutesAgo(90), ...extra };
      pod['status'] = status;
      pod['spec'] = { ...(pod['spec'] as object), nodeName: 'node-1', ...(spec as object) };
      return toTable(info, [pod], opts).rows[0]!.cells;
    };
    expect(row({ phase: 'Pending' })).toEqual(['web-1', '0/1', 'Pending', '0', '90m', '<none>', 'node-1', '<none>', '<none>']);
    expect(row({ phase: 'Running', podIP: '10.1.0.5', containerStatuses: [{ name: 'web', ready: true, restartCount: 2, state: { running: {} },
      lastState: { terminated: { finishedAt: minutesAgo(3) } } }] }))
      .toEqual(['web-1', '1/1', 'Running', '2 (3m ago)', '90m', '10.1.0.5', 'node-1', '<none>', '<none>']);
    expect(row({ phase: 'Pending', containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] })[2])
      .toBe('ImagePullBackOff');
    expect(row({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] }, {}, { initContainers: [{ name: 'i', image: 'x' }, { name: 'j', image: 'x' }] })[2])
      .toBe('Init:0/2');
    expect(row({ phase: 'Running' }, { deletionTimestamp: minutesAgo(1) })[2]).toBe('Terminating');
    expect(row({ phase: 'Failed', containerStatuses: [{ name: 'web', state: { terminated: { exitCode: 137 } } }] })[2]).toBe('ExitCode:137');
  });

  it('prints deployments, services, nodes, configmaps, secrets and events', () => {
    const [dInfo, d] = fixture('Deployment');
    d.metadata.creationTimestamp = minutesAgo(2);
    d['status'] = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
    expect(toTable(dInfo, [d], opts).rows[0]!.cells).toEqual(['web', '2/3', 3, 2, '2m', 'web', 'nginx:1.27', 'app=web']);

    const [sInfo, s] = fixture('Service');
    (s as any).spec.clusterIP = '10.96.0.10';
    expect(toTable(sInfo, [s], opts).rows[0]!.cells).toEqual(['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,443/TCP', '<unknown>', 'app=web']);
    (s as any).spec = { type: 'LoadBalancer', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] };
    expect(toTable(sInfo, [s], opts).rows[0]!.cells.slice(1, 5)).toEqual(['LoadBalancer', '10.96.0.11', '<pending>', '80:30080/TCP']);

    const [nInfo, n] = fixture('Node');
    n['spec'] = { unschedulable: true };
    n['status'] = { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0-kubus' }, addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] };
    expect(toTable(nInfo, [n], opts).rows[0]!.cells.slice(0, 6)).toEqual(['node-1', 'Ready,SchedulingDisabled', 'control-plane', '<unknown>', 'v1.32.0-kubus', '10.0.0.2']);

    const [cInfo, c] = fixture('ConfigMap');
    expect(toTable(cInfo, [c], opts).rows[0]!.cells.slice(0, 2)).toEqual(['cfg', 2]);
    const [secInfo, sec] = fixture('Secret');
    expect(toTable(secInfo, [sec], opts).rows[0]!.cells.slice(0, 3)).toEqual(['s', 'Opaque', 1]);

    const [eInfo, e] = fixture('Event');
    Object.assign(e, { count: 3, firstTimestamp: minutesAgo(10), lastTimestamp: minutesAgo(1), source: { component: 'kubelet', host: 'node-1' } });
    expect(toTable(eInfo, [e], opts).rows[0]!.cells).toEqual(['60s (x3 over 10m)', 'Normal', 'Scheduled', 'pod/web-1', 'ok', '', 'kubelet, node-1', '10m', 3, 'web-1.abc']);
  });

  it('prints HPA targets for v1 and v2', () => {
    const [v2Info, hpa] = fixture('HorizontalPodAutoscaler');
    hpa['status'] = { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40 } } }] };
    expect(toTable(v2Info, [hpa], opts).rows[0]!.cells.slice(0, 6)).toEqual(['web', 'Deployment/web', 'cpu: 40%/80%', '1', 5, 2]);
    const v1Info = resource('autoscaling', 'v1', 'horizontalpodautoscalers');
    const v1: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } };
    expect(toTable(v1Info, [v1], opts).rows[0]!.cells.slice(2, 4)).toEqual(['cpu: <unknown>/50%', '<unset>']);
  });

  it('never throws on garbage stored objects, and keeps one cell per column', () => {
    for (const [info, object] of validObjects()) {
      for (const junk of [null, 7, 'x', [], { containers: 'no', ports: [null], conditions: 5 }]) {
        const mangled = { ...object, spec: junk, status: junk, subsets: junk, data: junk, involvedObject: junk, roleRef: junk } as KubeObject;
        // The printers themselves cope (toTable's fallback is a last resort, not the normal path).
        expect(() => printerFor(info).cells(mangled, now)).not.toThrow();
        const table = toTable(info, [mangled], opts);
        expect(table.rows[0]!.cells).toHaveLength(table.columnDefinitions!.length);
      }
    }
  });
});
