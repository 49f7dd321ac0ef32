/**
 * The proxy's pure decisions, without sockets: which endpoints are eligible (ready, else serving
 * terminating; traffic policy Local keeps this node's), the order they are tried in (round-robin,
 * the affinity endpoint first), when the tunnel is used, the affinity table's expiry and bound, the
 * listener plan from Services (ClusterIPs × ports, NodePorts × addresses, SCTP and contested keys
 * reported, the listener bound), and the router combining them on a simulated clock.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import type { ResolvedEndpoint } from '../../../nodeagent/services/catalog.js';
import { createMemoryCatalog } from '../../../nodeagent/services/index.js';
import { AffinityTable } from '../../../nodeagent/proxy/affinity.js';
import { affinityTimeoutMs, connectOrder, eligibleEndpoints, localOnly, needsTunnel } from '../../../nodeagent/proxy/endpoint-choice.js';
import { planListeners } from '../../../nodeagent/proxy/listener-plan.js';
import { proxyLimits } from '../../../nodeagent/proxy/limits.js';
import { ServiceRouter } from '../../../nodeagent/proxy/router.js';
import { service, slice } from './fixtures.js';

const ep = (address: string, extra: Partial<ResolvedEndpoint> = {}): ResolvedEndpoint => ({ address, port: 80, ready: true, serving: true, terminating: false, ...extra });
const addresses = (list: readonly ResolvedEndpoint[]): string[] => list.map((e) => e.address);

describe('eligibleEndpoints', () => {
  const mixed = [ep('a', { nodeName: 'n1' }), ep('b', { nodeName: 'n2', ready: false }), ep('c', { nodeName: 'n2' }), ep('d', { nodeName: 'n1', ready: false, serving: true, terminating: true })];

  it('takes the ready endpoints', () => {
    expect(addresses(eligibleEndpoints(mixed, { localOnly: false, nodeName: 'n1' }))).toEqual(['a', 'c']);
  });

  it('falls back to serving terminating endpoints when none is ready, never to not-serving ones', () => {
    const none = [ep('x', { ready: false, serving: false, terminating: true }), ep('y', { ready: false, serving: true, terminating: true }), ep('z', { ready: false })];
    expect(addresses(eligibleEndpoints(none, { localOnly: false, nodeName: 'n1' }))).toEqual(['y']);
  });

  it('keeps only this node endpoints under a Local policy, with the same fallback', () => {
    expect(addresses(eligibleEndpoints(mixed, { localOnly: true, nodeName: 'n1' }))).toEqual(['a']);
    expect(addresses(eligibleEndpoints(mixed.slice(1), { localOnly: true, nodeName: 'n1' }))).toEqual(['d']);
    expect(eligibleEndpoints(mixed, { localOnly: true, nodeName: 'n3' })).toEqual([]);
  });

  it('applies externalTrafficPolicy to NodePort traffic and internalTrafficPolicy to ClusterIP traffic', () => {
    const external = service('s', { clusterIP: '127.96.0.1', ports: [], externalTrafficPolicy: 'Local' });
    expect(localOnly(external, 'nodePort')).toBe(true);
    expect(localOnly(external, 'clusterIP')).toBe(false);
    const internal = { ...external, spec: { ...external.spec, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Local' } };
    expect(localOnly(internal, 'clusterIP')).toBe(true);
    expect(localOnly(internal, 'nodePort')).toBe(false);
  });
});

describe('connectOrder', () => {
  const three = [ep('a'), ep('b'), ep('c')];
  it('rotates from the cursor', () => {
    expect(addresses(connectOrder(three, { cursor: 0 }))).toEqual(['a', 'b', 'c']);
    expect(addresses(connectOrder(three, { cursor: 4 }))).toEqual(['b', 'c', 'a']);
    expect(connectOrder([], { cursor: 3 })).toEqual([]);
  });
  it('puts the affinity endpoint first when it is eligible, ignores it otherwise', () => {
    expect(addresses(connectOrder(three, { cursor: 0, preferred: 'c:80' }))).toEqual(['c', 'a', 'b']);
    expect(addresses(connectOrder(three, { cursor: 1, preferred: 'gone:80' }))).toEqual(['b', 'c', 'a']);
  });
});

describe('needsTunnel', () => {
  const networks = { self: 'host-a', of: (node: string) => ({ n1: 'host-a', n2: 'host-b' } as Record<string, string>)[node] };
  it('tunnels only to nodes known to be on another pod network', () => {
    expect(needsTunnel({ nodeName: 'n1' }, networks)).toBe(false);
    expect(needsTunnel({ nodeName: 'n2' }, networks)).toBe(true);
    expect(needsTunnel({ nodeName: 'unknown' }, networks)).toBe(false);
    expect(needsTunnel({}, networks)).toBe(false);
  });
});

describe('affinity', () => {
  it('reads the timeout from the Service, Kubernetes default otherwise, null without ClientIP affinity', () => {
    expect(affinityTimeoutMs(service('s', { clusterIP: 'x', ports: [] }), 10_800)).toBeNull();
    expect(affinityTimeoutMs(service('s', { clusterIP: 'x', ports: [], sessionAffinity: 'ClientIP' }), 10_800)).toBe(10_800_000);
    expect(affinityTimeoutMs(service('s', { clusterIP: 'x', ports: [], sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 5 }), 10_800)).toBe(5_000);
  });

  it('forgets a client after the timeout and the least recently used past the bound', () => {
    const table = new AffinityTable(2);
    table.remember('1.1.1.1', 'a:80', 0);
    expect(table.lookup('1.1.1.1', 1_000, 1_000)).toBe('a:80');
    expect(table.lookup('1.1.1.1', 2_001, 1_000)).toBeUndefined();
    table.remember('1', 'a', 0);
    table.remember('2', 'b', 0);
    table.lookup('1', 1, 1_000);
    table.remember('1', 'a', 1); // touched: '2' is now the oldest
    table.remember('3', 'c', 2);
    expect(table.size).toBe(2);
    expect(table.lookup('2', 3, 1_000)).toBeUndefined();
    expect(table.lookup('1', 3, 1_000)).toBe('a');
  });
});

describe('planListeners', () => {
  const entries = (...services: ReturnType<typeof service>[]) => services.map((s) => ({ service: s, slices: [] }));

  it('listens on every cluster IP and port, and NodePorts on every NodePort address', () => {
    const np = service('np', { clusterIP: '127.96.0.5', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' }] });
    const plan = planListeners(entries(np), { nodePortAddresses: ['127.32.0.1', '127.32.0.2'], listenersMax: 100 });
    expect([...plan.listeners.keys()].sort()).toEqual([
      'TCP/127.32.0.1:30080', 'TCP/127.32.0.2:30080', 'TCP/127.96.0.5:80',
      'UDP/127.32.0.1:30053', 'UDP/127.32.0.2:30053', 'UDP/127.96.0.5:53',
    ]);
    expect(plan.listeners.get('UDP/127.32.0.1:30053')).toMatchObject({ portName: 'dns', entry: 'nodePort', service: { namespace: 'default', name: 'np' } });
  });

  it('gives a LoadBalancer Service its ClusterIP and NodePorts (its ingress address is the cloud provider\'s)', () => {
    const lb = service('lb', { clusterIP: '127.96.0.8', type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30081 }] });
    const withIngress = { ...lb, status: { loadBalancer: { ingress: [{ ip: '127.98.0.1' }] } } };
    const plan = planListeners(entries(withIngress), { nodePortAddresses: ['127.32.0.1'], listenersMax: 100 });
    expect([...plan.listeners.keys()].sort()).toEqual(['TCP/127.32.0.1:30081', 'TCP/127.96.0.8:80']);
  });

  it('skips headless and ExternalName Services, reports SCTP, a contested address and the listener bound', () => {
    const headless = service('headless', { clusterIP: 'None', ports: [{ port: 80 }] });
    const external = { ...service('ext', { clusterIP: '', ports: [{ port: 80 }] }), spec: { type: 'ExternalName', externalName: 'example.org', ports: [{ port: 80 }] } };
    const sctp = service('sctp', { clusterIP: '127.96.0.6', ports: [{ port: 99, protocol: 'SCTP' }] });
    const first = service('first', { clusterIP: '127.96.0.7', ports: [{ port: 80 }, { port: 81 }] });
    const second = { ...service('second', { clusterIP: '127.96.0.7', ports: [{ port: 80 }] }) };
    second.metadata = { ...second.metadata, creationTimestamp: '2026-02-01T00:00:00Z' };
    const plan = planListeners(entries(second, headless, external, sctp, first), { nodePortAddresses: [], listenersMax: 1 });
    expect([...plan.listeners.keys()]).toEqual(['TCP/127.96.0.7:80']);
    expect(plan.skipped.map((s) => s.service)).toEqual(['default/first', 'default/sctp', 'default/second']);
    expect(plan.skipped[0]?.reason).toMatch(/listenersMax/);
    expect(plan.skipped[1]?.reason).toMatch(/SCTP/);
    expect(plan.skipped[2]?.reason).toMatch(/already served/);
  });
});

describe('ServiceRouter', () => {
  const spec = { key: 'TCP/127.96.0.9:80', address: '127.96.0.9', port: 80, protocol: 'TCP' as const, service: { namespace: 'default', name: 'web' }, portName: '', entry: 'clusterIP' as const };

  it('rotates over eligible endpoints per connection and bounds the attempts', () => {
    const catalog = createMemoryCatalog();
    catalog.setService(service('web', { clusterIP: '127.96.0.9', ports: [{ port: 80 }] }));
    catalog.setSlice(slice('web', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((address) => ({ address })), [{ port: 8080 }]));
    const router = new ServiceRouter({ catalog, nodeName: 'n1', clock: new SimulatedClock(), tuning: { ...proxyLimits, connectAttemptsMax: 2 } });
    const firsts = [0, 1, 2, 3, 4].map(() => router.route(spec, '1.1.1.1').candidates);
    expect(firsts.map((c) => c[0]?.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.1']);
    expect(firsts.every((c) => c.length === 2)).toBe(true);
  });

  it('sticks a client to the endpoint it connected to until the affinity timeout, and refuses an unknown Service', () => {
    const catalog = createMemoryCatalog();
    catalog.setService(service('web', { clusterIP: '127.96.0.9', ports: [{ port: 80 }], sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 10 }));
    catalog.setSlice(slice('web', ['10.0.0.1', '10.0.0.2'].map((address) => ({ address })), [{ port: 8080 }]));
    const clock = new SimulatedClock();
    const router = new ServiceRouter({ catalog, nodeName: 'n1', clock, tuning: proxyLimits });
    const first = router.route(spec, '1.1.1.1');
    first.connected(first.candidates[1]!); // the first candidate failed; the second accepted
    for (let i = 0; i < 3; i++) expect(router.route(spec, '1.1.1.1').candidates[0]?.address).toBe('10.0.0.2');
    clock.advance(10_001);
    const other = router.route(spec, '2.2.2.2').candidates[0]?.address;
    expect(router.route(spec, '1.1.1.1').candidates[0]?.address).not.toBe(other);
    expect(router.route({ ...spec, service: { namespace: 'default', name: 'gone' } }, '1.1.1.1').candidates).toEqual([]);
  });
});
