/**
 * The Endpoints and EndpointSlice decisions, exactly: which addresses a Service's pods give it and
 * under which ports (a named targetPort resolving to different numbers per pod), ready versus
 * not-ready, publishNotReadyAddresses, terminating and IP-less pods, the headless label and the
 * trigger time; and the slice plan: 100 per slice, in-place updates, filling existing slices
 * before creating, reuse of a surplus slice, the placeholder.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { computeTriggerTime, desiredSubsets, endpointsAction, lastChangeTriggerTimeAnnotation } from '../../actors/controllers/endpoints/index.js';
import { desiredSliceEndpoints, managedByLabel, planSlices, serviceNameLabel } from '../../actors/controllers/endpointslice/index.js';
import { SliceExpectations } from '../../actors/controllers/endpointslice/index.js';

const service = (extra: Partial<NonNullable<Service['spec']>> = {}, labels: Record<string, string> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...extra },
});

interface PodOptions { ip?: string; ready?: boolean; port?: number; deleting?: boolean; node?: string; phase?: string; restartPolicy?: string; readySince?: string }
const pod = (name: string, o: PodOptions = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, creationTimestamp: '2026-01-01T00:00:01Z',
    ...(o.deleting === true ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}) },
  spec: { nodeName: o.node ?? 'n1', ...(o.restartPolicy !== undefined ? { restartPolicy: o.restartPolicy } : {}),
    containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
  status: {
    ...(o.ip !== '' ? { podIP: o.ip ?? `10.0.0.${name.replace(/\D/g, '') || '1'}` } : {}),
    ...(o.phase !== undefined ? { phase: o.phase } : {}),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:05Z' }],
  },
});

const ref = (name: string) => ({ kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` });

describe('Endpoints from a Service and its pods', () => {
  it('puts ready pods under addresses and the others under notReadyAddresses, with nodeName and targetRef', () => {
    const { subsets } = desiredSubsets(service(), [pod('p2', { ready: false }), pod('p1'), pod('p3', { node: 'n2' })]);
    expect(subsets).toEqual([{
      addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: ref('p1') }, { ip: '10.0.0.3', nodeName: 'n2', targetRef: ref('p3') }],
      notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
  });

  it('splits pods whose named port resolves to different numbers into different subsets', () => {
    const { subsets } = desiredSubsets(service(), [pod('p1'), pod('p2', { port: 9090 }), pod('p3')]);
    expect(subsets).toEqual([
      { addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: ref('p1') }, { ip: '10.0.0.3', nodeName: 'n1', targetRef: ref('p3') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') }], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] },
    ]);
  });

  it('uses a numeric targetPort as is, and the port itself when targetPort is unset', () => {
    expect(desiredSubsets(service({ ports: [{ port: 80, targetPort: 8443 }] }), [pod('p1')]).subsets[0]?.ports).toEqual([{ port: 8443, protocol: 'TCP' }]);
    expect(desiredSubsets(service({ ports: [{ port: 80 }] }), [pod('p1')]).subsets[0]?.ports).toEqual([{ port: 80, protocol: 'TCP' }]);
  });

  it('leaves out pods without an IP, terminating pods, terminal pods and pods lacking the named port', () => {
    const lacking: Pod = { ...pod('p5'), spec: { containers: [{ name: 'c', image: 'x' }] } };
    const pods = [pod('p1', { ip: '' }), pod('p2', { deleting: true }), pod('p3', { restartPolicy: 'Never', phase: 'Succeeded' }), pod('p4'), lacking];
    expect(desiredSubsets(service(), pods).subsets).toEqual([{ addresses: [{ ip: '10.0.0.4', nodeName: 'n1', targetRef: ref('p4') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
  });

  it('with publishNotReadyAddresses lists not-ready and terminating pods as ready addresses', () => {
    const { subsets } = desiredSubsets(service({ publishNotReadyAddresses: true }), [pod('p1', { ready: false }), pod('p2', { deleting: true })]);
    expect(subsets).toEqual([{ addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: ref('p1') }, { ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
  });

  it('creates with the headless label and the trigger time, then does nothing while nothing changes', () => {
    const svc = service({ clusterIP: 'None' }, { tier: 'front' });
    const created = endpointsAction(svc, undefined, [pod('p1')], '2026-01-01T00:00:05Z');
    expect(created.kind).toBe('create');
    if (created.kind !== 'create') return;
    expect(created.body.metadata).toEqual({ name: 'web', namespace: 'ns', labels: { tier: 'front', 'service.kubernetes.io/headless': '' }, annotations: { [lastChangeTriggerTimeAnnotation]: '2026-01-01T00:00:05Z' } });
    const stored = { ...created.body, metadata: { ...created.body.metadata, resourceVersion: '7' } };
    expect(endpointsAction(svc, stored, [pod('p1')], undefined)).toEqual({ kind: 'none' });
    const moved = endpointsAction(svc, stored, [pod('p1', { ready: false })], '2026-01-01T00:02:00Z');
    expect(moved.kind).toBe('update');
    if (moved.kind !== 'update') return;
    expect(moved.body.metadata?.resourceVersion).toBe('7');
    expect(moved.body.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).toEqual(['10.0.0.1']);
  });

  it('removes the headless label when the Service gets a cluster IP', () => {
    const current: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'ns', labels: { 'service.kubernetes.io/headless': '' } }, subsets: [] };
    const action = endpointsAction(service({ clusterIP: '10.96.0.10' }), current, [], undefined);
    expect(action.kind === 'update' ? action.body.metadata?.labels : null).toEqual({});
  });

  it('a headless Service publishes the hostname of pods naming it as their subdomain; a port-less one lists addresses only', () => {
    const named: Pod = { ...pod('p1'), spec: { ...pod('p1').spec, containers: pod('p1').spec?.containers ?? [], hostname: 'db-0', subdomain: 'web' } };
    const other: Pod = { ...pod('p2'), spec: { ...pod('p2').spec, containers: pod('p2').spec?.containers ?? [], hostname: 'x', subdomain: 'elsewhere' } };
    expect(desiredSubsets(service({ clusterIP: 'None', ports: [] }), [named, other]).subsets).toEqual([{
      addresses: [{ ip: '10.0.0.1', hostname: 'db-0', nodeName: 'n1', targetRef: ref('p1') }, { ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') }],
    }]);
    expect(desiredSubsets(service({ ports: [] }), [named]).subsets).toEqual([]);
  });

  it('caps an Endpoints at 1000 addresses, ready ones first, and marks it over-capacity', () => {
    const pods = Array.from({ length: 1001 }, (_, i) => pod(`p${i + 1}`, { ip: `10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`, ready: i !== 0 }));
    const action = endpointsAction(service(), undefined, pods, undefined);
    if (action.kind !== 'create') throw new Error(action.kind);
    expect(action.body.subsets?.[0]?.addresses?.length).toBe(1000);
    expect(action.body.subsets?.[0]?.notReadyAddresses).toBeUndefined();
    expect(action.body.metadata?.annotations).toEqual({ 'endpoints.kubernetes.io/over-capacity': 'truncated' });
  });

  it('takes the trigger time of the earliest pod that changed since the last sync', () => {
    const first = computeTriggerTime(undefined, service(), [pod('p1', { readySince: '2026-01-01T00:00:09Z' })]);
    expect(first.triggerTime).toBe('2026-01-01T00:00:00Z');
    const second = computeTriggerTime(first.state, service(), [pod('p1', { readySince: '2026-01-01T00:00:09Z' }), pod('p2', { readySince: '2026-01-01T00:00:20Z' }), pod('p3', { readySince: '2026-01-01T00:00:15Z' })]);
    expect(second.triggerTime).toBe('2026-01-01T00:00:15Z');
    expect(computeTriggerTime(second.state, service(), [pod('p1', { readySince: '2026-01-01T00:00:09Z' })]).triggerTime).toBeUndefined();
    // Readiness flipped within the same second as the last transition: still a change, dated by it.
    const sameSecond = computeTriggerTime(second.state, service(), [pod('p1', { readySince: '2026-01-01T00:00:09Z', ready: false })]);
    expect(sameSecond.triggerTime).toBe('2026-01-01T00:00:09Z');
  });
});

const many = (count: number, o: PodOptions = {}): Pod[] => Array.from({ length: count }, (_, i) => pod(`p${i + 1}`, { ...o, ip: `10.1.${Math.floor((i + 1) / 250)}.${(i + 1) % 250}` }));

let nextName = 0;
/** Stores a plan's creates as the API would (a generated name, a resourceVersion) and applies its updates and deletes. */
function apply(existing: EndpointSlice[], plan: ReturnType<typeof planSlices>): EndpointSlice[] {
  const deleted = new Set(plan.delete.map((s) => s.metadata?.name));
  const updated = new Map(plan.update.map((s) => [s.metadata?.name, s]));
  const kept = existing.filter((s) => !deleted.has(s.metadata?.name)).map((s) => updated.get(s.metadata?.name) ?? s);
  return [...kept, ...plan.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: `${s.metadata?.generateName ?? ''}${++nextName}`, resourceVersion: '1' } }))];
}

describe('EndpointSlices planned from a Service and its pods', () => {
  const plan = (svc: Service, existing: EndpointSlice[], pods: Pod[], max = 100) => planSlices(svc, existing, desiredSliceEndpoints(svc, pods), { maxEndpointsPerSlice: max, triggerTime: undefined });

  it('creates one slice with labels, owner, generateName, IPv4, conditions, nodeName, targetRef and ports by name', () => {
    const result = plan(service({}, { tier: 'front' }), [], [pod('p1'), pod('p2', { ready: false }), pod('p3', { deleting: true })]);
    expect(result.update).toEqual([]);
    expect(result.delete).toEqual([]);
    expect(result.create).toEqual([{
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: {
        generateName: 'web-', namespace: 'ns',
        labels: { tier: 'front', [serviceNameLabel]: 'web', [managedByLabel]: 'endpointslice-controller.k8s.io' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: ref('p1') },
        { addresses: ['10.0.0.2'], conditions: { ready: false, serving: false, terminating: false }, nodeName: 'n1', targetRef: ref('p2') },
        { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n1', targetRef: ref('p3') },
      ],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
  });

  it('packs 150 endpoints into a full slice of 100 and one of 50; 250 into 100, 100, 50', () => {
    expect(plan(service(), [], many(150)).create.map((s) => s.endpoints.length)).toEqual([100, 50]);
    expect(plan(service(), [], many(250)).create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    expect(plan(service(), [], many(7), 3).create.map((s) => s.endpoints.length)).toEqual([3, 3, 1]);
  });

  it('changes a pod in place: one update of the slice that holds it, nothing created or deleted', () => {
    const svc = service();
    const slices = apply([], plan(svc, [], many(150)));
    expect(plan(svc, slices, many(150)).update).toEqual([]);
    const pods = many(150);
    pods[120] = { ...pods[120] as Pod, status: { ...(pods[120] as Pod).status, conditions: [{ type: 'Ready', status: 'False' }] } };
    const result = plan(svc, slices, pods);
    expect(result.create).toEqual([]);
    expect(result.delete).toEqual([]);
    expect(result.update.length).toBe(1);
    expect(result.update[0]?.metadata?.resourceVersion).toBe('1');
    expect(result.update[0]?.endpoints.find((e) => e.targetRef?.name === 'p121')?.conditions).toEqual({ ready: false, serving: false, terminating: false });
  });

  it('fills a slice being updated before creating one, and puts a remainder in the unchanged slice with room', () => {
    const svc = service();
    const slices = apply([], plan(svc, [], many(150)));
    // p1 goes (its slice is updated anyway) and 30 new pods come: p1's slice takes one, the rest fit the 50-slice.
    const pods = [...many(180)].slice(1);
    const result = plan(svc, slices, pods);
    expect(result.create).toEqual([]);
    expect(result.delete).toEqual([]);
    expect(result.update.map((s) => s.endpoints.length).sort()).toEqual([100, 79]);
    const after = apply(slices, result);
    expect(after.flatMap((s) => s.endpoints).length).toBe(179);
  });

  it('deletes a slice left empty, and reuses a surplus slice instead of deleting one and creating one', () => {
    const svc = service();
    const slices = apply([], plan(svc, [], many(150)));
    const inFull = new Set(slices.find((s) => s.endpoints.length === 100)?.endpoints.map((e) => e.targetRef?.name));
    const fewer = plan(svc, slices, many(150).filter((p) => inFull.has(p.metadata?.name)));
    expect(fewer.create).toEqual([]);
    expect(fewer.update).toEqual([]);
    expect(fewer.delete.map((s) => s.endpoints.length)).toEqual([50]);
    // Every pod now serves on 9090: the old port set's slices are reused for the new one.
    const moved = plan(svc, slices, many(150, { port: 9090 }));
    expect(moved.create).toEqual([]);
    expect(moved.delete).toEqual([]);
    expect(moved.update.map((s) => [s.ports?.[0]?.port, s.endpoints.length])).toEqual([[9090, 100], [9090, 50]]);
  });

  it('keeps one empty placeholder slice when no pod is an endpoint, and does not churn it', () => {
    const svc = service();
    const first = plan(svc, [], []);
    expect(first.create.map((s) => [s.endpoints, s.ports])).toEqual([[[], []]]);
    const stored = apply([], first);
    expect(plan(svc, stored, [])).toEqual({ create: [], update: [], delete: [] });
    const withPods = plan(svc, stored, [pod('p1')]);
    expect(withPods.create).toEqual([]);
    expect(withPods.update.map((s) => [s.metadata?.name, s.endpoints.length, s.ports])).toEqual([[stored[0]?.metadata?.name, 1, [{ name: 'http', port: 8080, protocol: 'TCP' }]]]);
  });

  it('waits for the informer to show its writes before planning again', () => {
    const expectations = new SliceExpectations({ capacity: 10, timeoutMs: 1000 });
    const written = { metadata: { name: 'web-1', resourceVersion: '12' } } as EndpointSlice;
    expectations.expect('ns/web', [written], ['web-0'], 0);
    expect(expectations.satisfied('ns/web', [], 10)).toBe(false);
    expect(expectations.satisfied('ns/web', [{ ...written, metadata: { name: 'web-1', resourceVersion: '11' } }], 10)).toBe(false);
    expect(expectations.satisfied('ns/web', [written, { metadata: { name: 'web-0' } } as EndpointSlice], 10)).toBe(false);
    expect(expectations.satisfied('ns/web', [{ ...written, metadata: { name: 'web-1', resourceVersion: '13' } }], 10)).toBe(true);
    expectations.expect('ns/web', [written], [], 0);
    expect(expectations.satisfied('ns/web', [], 1000)).toBe(true);
  });
});
