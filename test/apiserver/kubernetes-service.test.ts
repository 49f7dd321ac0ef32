/**
 * The `kubernetes` Service reconciler (actors/apiserver/services/kubernetes-service*.ts): what it
 * writes, from which Leases, and when a member leaves its endpoints. The pure plan and liveness
 * functions are tested from their inputs; the passes and the machine run against an in-memory
 * object store (kubernetes-service-fake-storage.ts) on a simulated clock, three "members" on one
 * host told apart by port, as `kubus up` runs them.
 */
import { describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SimulatedClock, type Logger } from '../../bus/index.js';
import {
  defaultAdvertiseAddress, kubernetesServiceCertNames, kubernetesServiceClusterIp, startKubernetesServiceReconciler,
} from '../../actors/apiserver/services/kubernetes-service.js';
import { ServiceRangeFlagError } from '../../actors/apiserver/services/errors.js';
import { liveMembers, renewedMemberLease, type MemberEndpoint, type Sighting } from '../../actors/apiserver/services/kubernetes-service-liveness.js';
import { leavePass, reconcilePass, type PassInput } from '../../actors/apiserver/services/kubernetes-service-pass.js';
import {
  desiredKubernetesEndpoints, desiredKubernetesSlices, planKubernetesSlices, repairedKubernetesService, desiredKubernetesService,
} from '../../actors/apiserver/services/kubernetes-service-plan.js';
import { servicesForPod, serviceEnvironment } from '../../nodeagent/env/service-env.js';
import { FakeStorage } from './kubernetes-service-fake-storage.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const a: MemberEndpoint = { member: 'a', address: '127.0.0.1', port: 6443 };
const b: MemberEndpoint = { member: 'b', address: '127.0.0.1', port: 6444 };
const c: MemberEndpoint = { member: 'c', address: '127.0.0.1', port: 6445 };
const wall = new Date('2026-12-03T08:00:00.000Z');

function passInput(storage: FakeStorage, self: MemberEndpoint, clock: { now(): number }, wallClock = () => wall): PassInput {
  return {
    objects: storage.port, self, clusterIp: '127.96.0.1', leaseDurationSeconds: 15, membersMax: 64, firstSightingSkewMs: 15_000,
    nowMs: () => clock.now(), wallClock,
  };
}

/** Lets the machine's promises settle between simulated-clock steps. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('kubernetes Service plan', () => {
  it('gives the Service the first usable address of the range, port 443 https, no selector', () => {
    expect(kubernetesServiceClusterIp('127.96.0.0/16')).toBe('127.96.0.1');
    expect(kubernetesServiceClusterIp('10.43.7.9/16')).toBe('10.43.0.1');
    expect(() => kubernetesServiceClusterIp('127.96.0.0/32')).toThrow(ServiceRangeFlagError);
    expect(() => kubernetesServiceClusterIp('nonsense')).toThrow(/--service-cluster-ip-range "nonsense"/);
    const service = desiredKubernetesService('127.96.0.1', 6443);
    expect(service.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '127.96.0.1', clusterIPs: ['127.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] });
    expect(service.spec?.selector).toBeUndefined();
    expect(kubernetesServiceCertNames('127.96.0.0/16')).toEqual(['127.96.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
  });

  it('groups members by port: one Endpoints subset and one slice each, the first slice named kubernetes', () => {
    const endpoints = desiredKubernetesEndpoints([c, a, b, { member: 'd', address: '127.0.0.2', port: 6443 }]);
    expect(endpoints.subsets).toEqual([
      { addresses: [{ ip: '127.0.0.1' }, { ip: '127.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6444, protocol: 'TCP' }] },
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6445, protocol: 'TCP' }] },
    ]);
    const slices = desiredKubernetesSlices([a, b, c]);
    expect(slices.map((s) => s.metadata?.name)).toEqual(['kubernetes', 'kubernetes-6444', 'kubernetes-6445']);
    expect(slices[0]?.metadata?.labels).toEqual({ 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpoint-reconciler.kubus.io' });
    expect(slices[1]).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'https', port: 6444 }] });
  });

  it('plans slice writes: creates the missing, updates the changed, deletes the surplus, leaves the equal', () => {
    const existing = desiredKubernetesSlices([a, b, c]).map((s, i) => ({ ...s, metadata: { ...s.metadata, uid: `u${i}`, resourceVersion: String(i + 10) } }));
    expect(planKubernetesSlices(existing, desiredKubernetesSlices([a, b, c]))).toEqual({ create: [], update: [], delete: [] });
    const plan = planKubernetesSlices(existing, desiredKubernetesSlices([b, { member: 'd', address: '127.0.0.2', port: 6444 }]));
    // b alone is now the first group: slice "kubernetes" holds port 6444; the 6444 and 6445 slices go.
    expect(plan.update.map((s) => [s.metadata?.name, s.metadata?.resourceVersion, s.ports?.[0]?.port])).toEqual([['kubernetes', '10', 6444]]);
    expect(plan.delete.map((s) => s.metadata?.name)).toEqual(['kubernetes-6444', 'kubernetes-6445']);
    expect(plan.create).toEqual([]);
  });

  it('puts back the https port and removes a selector, keeping the ClusterIP and an existing targetPort', () => {
    const service = desiredKubernetesService('127.96.0.1', 6443);
    expect(repairedKubernetesService(service, 7000)).toBeNull();
    const edited: Service = { ...service, spec: { ...service.spec, selector: { app: 'x' }, ports: [{ name: 'web', port: 80, targetPort: 8080 }] } };
    const repaired = repairedKubernetesService(edited, 7000);
    expect(repaired?.spec).toMatchObject({ clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 7000 }] });
    expect(repaired?.spec?.selector).toBeUndefined();
  });

  it('advertises the API host when it is an address, else a non-internal IPv4, else loopback', () => {
    const interfaces = { lo: [{ family: 'IPv4', internal: true, address: '127.0.0.1' }], eth0: [{ family: 'IPv4', internal: false, address: '192.0.2.7' }] } as never;
    expect(defaultAdvertiseAddress('127.0.0.1', interfaces)).toBe('127.0.0.1');
    expect(defaultAdvertiseAddress('0.0.0.0', interfaces)).toBe('192.0.2.7');
    expect(defaultAdvertiseAddress('localhost', interfaces)).toBe('127.0.0.1');
    expect(defaultAdvertiseAddress('0.0.0.0', {} as never)).toBe('127.0.0.1');
  });

  it('pods get KUBERNETES_SERVICE_HOST and _PORT from the Service (the agent\'s service environment)', () => {
    const service = { ...desiredKubernetesService('127.96.0.1', 6443), metadata: { name: 'kubernetes', namespace: 'default' } };
    const env = serviceEnvironment(servicesForPod({ namespace: 'apps', enableServiceLinks: false, namespaceServices: [], defaultServices: [service] }));
    expect(env).toContainEqual({ name: 'KUBERNETES_SERVICE_HOST', value: '127.96.0.1' });
    expect(env).toContainEqual({ name: 'KUBERNETES_SERVICE_PORT', value: '443' });
    expect(env).toContainEqual({ name: 'KUBERNETES_SERVICE_PORT_HTTPS', value: '443' });
  });
});

describe('member liveness from Leases', () => {
  const lease = (endpoint: MemberEndpoint, renewed: Date, resourceVersion: string): Lease => ({
    ...renewedMemberLease(endpoint, { now: renewed, leaseDurationSeconds: 15, previous: null }),
    metadata: { ...renewedMemberLease(endpoint, { now: renewed, leaseDurationSeconds: 15, previous: null }).metadata, resourceVersion },
  });
  const judge = (leases: Lease[], sightings: Map<string, Sighting>, nowMs: number, wallNowMs = wall.getTime()) =>
    liveMembers(leases, { self: a, sightings, nowMs, wallNowMs, firstSightingSkewMs: 15_000 });

  it('counts expiry on the local clock from the first sighting of a record, never from the writer\'s clock', () => {
    // b's clock is an hour behind ours: its Lease still counts, since it keeps changing.
    const behind = new Date(wall.getTime() - 3_600_000);
    let seen = judge([lease(b, behind, '5')], new Map(), 0, behind.getTime());
    expect(seen.live.map((m) => m.member)).toEqual(['a', 'b']);
    seen = judge([lease(b, behind, '5')], seen.sightings, 14_999);
    expect(seen.live.map((m) => m.member)).toEqual(['a', 'b']);
    seen = judge([lease(b, behind, '5')], seen.sightings, 15_000);
    expect(seen.live.map((m) => m.member)).toEqual(['a']);
    seen = judge([lease(b, behind, '6')], seen.sightings, 20_000);
    expect(seen.live.map((m) => m.member)).toEqual(['a', 'b']);
  });

  it('a Lease first seen long after its renewTime is not live (a member dead for hours stays out)', () => {
    const old = new Date(wall.getTime() - 31_000);
    expect(judge([lease(c, old, '3')], new Map(), 0).live.map((m) => m.member)).toEqual(['a']);
    const recent = new Date(wall.getTime() - 29_000);
    expect(judge([lease(c, recent, '3')], new Map(), 0).live.map((m) => m.member)).toEqual(['a', 'c']);
  });

  it('ignores Leases that do not name an endpoint, and forgets sightings of Leases that are gone', () => {
    const broken = lease(b, wall, '4');
    broken.metadata = { ...broken.metadata, annotations: {} };
    const first = judge([broken, lease(c, wall, '5')], new Map(), 0);
    expect(first.live.map((m) => m.member)).toEqual(['a', 'c']);
    expect([...judge([], first.sightings, 1).sightings.keys()]).toEqual([]);
  });
});

describe('reconcile passes against an object store', () => {
  it('three members publish themselves; a member that stops renewing leaves after its Lease duration', async () => {
    const storage = new FakeStorage();
    const clock = new SimulatedClock();
    const sightings = new Map<string, Map<string, Sighting>>();
    const pass = async (self: MemberEndpoint) => {
      const result = await reconcilePass(passInput(storage, self, clock), sightings.get(self.member) ?? new Map());
      sightings.set(self.member, result.sightings);
      return result;
    };
    await pass(a);
    await pass(b);
    await pass(c);
    const again = await pass(a);
    expect(again.live.map((m) => m.member)).toEqual(['a', 'b', 'c']);
    const service = storage.one('services', 'default', 'kubernetes') as unknown as Service;
    expect(service.spec).toMatchObject({ clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] });
    const endpoints = storage.one('endpoints', 'default', 'kubernetes') as unknown as Endpoints;
    expect(endpoints.subsets?.map((s) => s.ports?.[0]?.port)).toEqual([6443, 6444, 6445]);
    expect(storage.all('endpointslices', 'default').map((s) => s.metadata.name).sort()).toEqual(['kubernetes', 'kubernetes-6444', 'kubernetes-6445']);
    expect(storage.all('leases', 'kube-system').map((l) => l.metadata.name).sort()).toEqual(['kube-apiserver-a', 'kube-apiserver-b', 'kube-apiserver-c']);
    // Nothing changed: a pass writes only its own Lease.
    const before = storage.writes;
    expect((await pass(b)).writes).toBe(0);
    expect(storage.writes).toBe(before + 1);
    // c stops renewing (SIGSTOP, crash); a and b renew every 10 s.
    for (let step = 0; step < 2; step++) {
      clock.advance(10_000);
      await pass(a);
      await pass(b);
    }
    expect((storage.one('endpoints', 'default', 'kubernetes') as unknown as Endpoints).subsets?.map((s) => s.ports?.[0]?.port)).toEqual([6443, 6444]);
    expect(storage.all('endpointslices', 'default').map((s) => s.metadata.name).sort()).toEqual(['kubernetes', 'kubernetes-6444']);
    // c comes back: renewing puts it back at once.
    clock.advance(10_000);
    await pass(c);
    expect((storage.one('endpoints', 'default', 'kubernetes') as unknown as Endpoints).subsets).toHaveLength(3);
  });

  it('a deleted Service comes back with its reserved ClusterIP; a leaving member removes its Lease and endpoint', async () => {
    const storage = new FakeStorage();
    const clock = new SimulatedClock();
    await reconcilePass(passInput(storage, a, clock), new Map());
    const bSeen = await reconcilePass(passInput(storage, b, clock), new Map());
    storage.objects.delete('services/default/kubernetes');
    await reconcilePass(passInput(storage, a, clock), new Map());
    expect((storage.one('services', 'default', 'kubernetes') as unknown as Service).spec?.clusterIP).toBe('127.96.0.1');
    await leavePass(passInput(storage, b, clock), bSeen.sightings);
    expect(storage.one('leases', 'kube-system', 'kube-apiserver-b')).toBeUndefined();
    expect((storage.one('endpoints', 'default', 'kubernetes') as unknown as Endpoints).subsets?.map((s) => s.ports?.[0]?.port)).toEqual([6443]);
    const slices = storage.all('endpointslices', 'default') as unknown as EndpointSlice[];
    expect(slices.map((s) => [s.metadata?.name, s.ports?.[0]?.port])).toEqual([['kubernetes', 6443]]);
  });
});

describe('the reconciler machine', () => {
  it('publishes at start, retries soon while the store refuses, renews every interval, and leaves on stop', async () => {
    const storage = new FakeStorage();
    const clock = new SimulatedClock();
    storage.failing = true;
    const reconciler = startKubernetesServiceReconciler({
      objects: storage.port, self: 'a', advertise: { address: '127.0.0.1', port: 6443 }, serviceClusterIpRange: '127.96.0.0/16', clock, wallClock: () => wall, logger: silent,
    });
    await settle();
    expect(storage.objects.size).toBe(0);
    storage.failing = false;
    clock.advance(2_000);
    await settle();
    expect(reconciler.live()).toEqual([a]);
    expect(storage.one('endpoints', 'default', 'kubernetes')).toBeDefined();
    const renewedAt = (storage.one('leases', 'kube-system', 'kube-apiserver-a') as unknown as Lease).metadata?.resourceVersion;
    clock.advance(9_999);
    await settle();
    expect((storage.one('leases', 'kube-system', 'kube-apiserver-a') as unknown as Lease).metadata?.resourceVersion).toBe(renewedAt);
    clock.advance(1);
    await settle();
    expect((storage.one('leases', 'kube-system', 'kube-apiserver-a') as unknown as Lease).metadata?.resourceVersion).not.toBe(renewedAt);
    await reconciler.stop();
    expect(storage.one('leases', 'kube-system', 'kube-apiserver-a')).toBeUndefined();
    expect((storage.one('endpoints', 'default', 'kubernetes') as unknown as Endpoints).subsets).toEqual([]);
    expect(storage.all('endpointslices', 'default')).toEqual([]);
  });

  it('a stop while the store refuses ends anyway (the others drop this member when its Lease expires)', async () => {
    const storage = new FakeStorage();
    const clock = new SimulatedClock();
    const reconciler = startKubernetesServiceReconciler({
      objects: storage.port, self: 'a', advertise: { address: '127.0.0.1', port: 6443 }, serviceClusterIpRange: '127.96.0.0/16', clock, wallClock: () => wall, logger: silent,
    });
    await settle();
    storage.failing = true;
    await reconciler.stop();
    expect(storage.one('leases', 'kube-system', 'kube-apiserver-a')).toBeDefined();
    expect(clock.pendingCount()).toBe(0);
  });

  it('refuses an advertise address that is not an IP, naming the flag', () => {
    const start = () => startKubernetesServiceReconciler({
      objects: new FakeStorage().port, self: 'a', advertise: { address: 'api.example', port: 6443 }, serviceClusterIpRange: '127.96.0.0/16', clock: new SimulatedClock(), logger: silent,
    });
    expect(start).toThrow(/--advertise-address "api.example"/);
  });
});
