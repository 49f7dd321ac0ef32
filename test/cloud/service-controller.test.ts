/**
 * The service controller on a stub cluster and the fake cloud (controller-harness.ts):
 * - a LoadBalancer Service gets the finalizer, then a balancer over the eligible Nodes (Ready,
 *   not excluded by label), then its ingress in status; nothing more while nothing changes; the
 *   end of the term stops the provider (its listeners free for the next leader);
 * - the eligible node set changing updates the balancer's hosts (status untouched);
 * - type changed away: balancer released, status cleared, finalizer removed; Service deleted:
 *   released before the finalizer goes, then the Service is gone;
 * - ClusterIP Services and Services of another loadBalancerClass are never touched;
 * - a hung provider call times out (the controller's own bound) and is retried with backoff;
 * - a reconcile still in flight when its term ends makes no provider call after the term's stop();
 * - a provider failing 50 % of its calls (seeded): every Service still converges, and after every
 *   single reconcile no status names an address the cloud does not hold for it and no balancer
 *   exists without a Service whose deletion waits for it. Seeds 42, 7, 1234 by default; a failing
 *   seed replays with `KUBUS_CLOUD_SEEDS=<seed> npx vitest run test/cloud/service-controller.test.ts`
 *   (seeds 1-40 all pass).
 */
import { describe, expect, it } from 'vitest';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { cloudLimits, createServiceController, excludeFromLoadBalancersLabel, loadBalancerCleanupFinalizer } from '../../actors/cloud/index.js';
import { LeadershipLostError, refs, type ResourceRef } from '../../actors/controllers/runtime/index.js';
import type { KubeObject } from '../../actors/objects/meta.js';
import { CloudControllerHarness } from './controller-harness.js';

type Obj = KubeObject & Service;

function node(name: string, ip: string, options: { ready?: boolean; labels?: Record<string, string> } = {}): KubeObject & Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, ...(options.labels !== undefined ? { labels: options.labels } : {}) }, spec: {},
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function service(name: string, type = 'LoadBalancer', extra: Partial<NonNullable<Service['spec']>> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: name }, ...extra } };
}

async function cluster(options: { seed?: number } = {}): Promise<CloudControllerHarness> {
  const h = new CloudControllerHarness((provider) => createServiceController({ cloud: provider, clusterName: 'test' }), options);
  await h.api.create(refs.nodes, undefined, node('n1', '127.32.0.1'));
  await h.api.create(refs.nodes, undefined, node('n2', '127.32.0.2'));
  await h.api.create(refs.nodes, undefined, node('n3', '127.32.0.3', { ready: false }));
  await h.api.create(refs.nodes, undefined, node('n4', '127.32.0.4', { labels: { [excludeFromLoadBalancersLabel]: '' } }));
  await h.start();
  return h;
}

/** Seeds of the failing-provider run (each replays exactly: the fake cloud's failures come from a seeded generator). */
const seeds = (process.env['KUBUS_CLOUD_SEEDS'] ?? '42,7,1234').split(',').map(Number);

const get = (h: CloudControllerHarness, name: string): Promise<Obj> => h.api.get<Obj>(refs.services, 'default', name);
const balancerNodes = (h: CloudControllerHarness): string[][] => [...h.cloud.balancers.values()].map((b) => b.nodes);

describe('service controller', () => {
  it('finalizer first, then a balancer over the eligible nodes, then the ingress; then nothing while nothing changes', async () => {
    const h = await cluster();
    await h.api.create(refs.services, 'default', service('web'));
    await h.run();
    const web = await get(h, 'web');
    expect(web.metadata.finalizers).toEqual([loadBalancerCleanupFinalizer]);
    expect(web.status?.loadBalancer?.ingress).toEqual([{ ip: '127.98.0.1' }]);
    expect(balancerNodes(h)).toEqual([['n1', 'n2']]);
    expect(h.reasons()).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
    const update = h.api.calls.findIndex((c) => c === 'update services default/web');
    expect(update).toBeGreaterThanOrEqual(0);
    expect(h.cloud.calls).toEqual([`ensureLoadBalancer ${[...h.cloud.balancers.keys()][0]}`]);
    const callsBefore = h.cloud.calls.length;
    await h.advance(60_000);
    expect(h.cloud.calls.length).toBe(callsBefore);
    h.stop();
    expect(h.cloud.stops).toBe(1);
  });

  it('a node becoming Ready updates the hosts and leaves the status alone', async () => {
    const h = await cluster();
    await h.api.create(refs.services, 'default', service('web'));
    await h.run();
    const before = await get(h, 'web');
    const n3 = await h.api.get<KubeObject & Node>(refs.nodes, undefined, 'n3');
    await h.api.update(refs.nodes, undefined, 'n3', { ...n3, status: { ...n3.status, conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    await h.run();
    expect(balancerNodes(h)).toEqual([['n1', 'n2', 'n3']]);
    expect(h.cloud.calls.filter((c) => c.startsWith('updateLoadBalancer'))).toHaveLength(1);
    expect((await get(h, 'web')).status).toEqual(before.status);
    expect(h.reasons()).toContain('UpdatedLoadBalancer');
    h.stop();
  });

  it('type changed away: balancer released, status cleared, finalizer removed', async () => {
    const h = await cluster();
    await h.api.create(refs.services, 'default', service('web'));
    await h.run();
    const web = await get(h, 'web');
    await h.api.update(refs.services, 'default', 'web', { ...web, spec: { ...web.spec, type: 'ClusterIP' } });
    await h.run();
    const after = await get(h, 'web');
    expect(h.cloud.balancers.size).toBe(0);
    expect(after.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(after.metadata.finalizers ?? []).toEqual([]);
    expect(h.reasons().slice(-2)).toEqual(['DeletingLoadBalancer', 'DeletedLoadBalancer']);
    h.stop();
  });

  it('Service deleted: the balancer is released before the finalizer goes, then the Service is gone', async () => {
    const h = await cluster();
    await h.api.create(refs.services, 'default', service('web'));
    await h.run();
    await h.api.delete(refs.services, 'default', 'web');
    expect((await get(h, 'web')).metadata.deletionTimestamp).toBeDefined();
    await h.run();
    await expect(get(h, 'web')).rejects.toThrow(/not found/);
    expect(h.cloud.balancers.size).toBe(0);
    expect(h.cloud.calls.filter((c) => c.startsWith('ensureLoadBalancerDeleted'))).toHaveLength(1);
    h.stop();
  });

  it('leaves ClusterIP Services and Services of another loadBalancerClass alone', async () => {
    const h = await cluster();
    await h.api.create(refs.services, 'default', service('plain', 'ClusterIP'));
    await h.api.create(refs.services, 'default', service('other', 'LoadBalancer', { loadBalancerClass: 'example.com/other' }));
    await h.run();
    expect(h.cloud.calls).toEqual([]);
    expect((await get(h, 'other')).metadata.finalizers).toBeUndefined();
    h.stop();
  });

  it('a hung provider call times out at the controller\'s bound and is retried with backoff; no status meanwhile', async () => {
    const h = await cluster();
    h.cloud.hang = true;
    await h.api.create(refs.services, 'default', service('web'));
    let done = false;
    const running = h.run().finally(() => void (done = true));
    // Bounded waits for the call to be in flight: the harness is all promises, no real time.
    const inFlight = async (): Promise<void> => {
      for (let turn = 0; turn < 100 && !done; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    await inFlight();
    h.clock.advance(cloudLimits.loadBalancerCallTimeoutMs);
    await inFlight();
    expect(h.events.filter((e) => e.reason === 'SyncLoadBalancerFailed').map((e) => e.message)).toContain(
      `Error syncing load balancer: cloud provider fake: ensureLoadBalancer: no answer within ${cloudLimits.loadBalancerCallTimeoutMs} ms`);
    expect((await get(h, 'web')).status?.loadBalancer?.ingress).toBeUndefined();
    h.cloud.hang = false;
    // A second try may already hang (the finalizer write re-queued the key during the first, as the runtime's queue does).
    for (let round = 0; round < 5 && !done; round++) {
      h.clock.advance(cloudLimits.loadBalancerCallTimeoutMs);
      await inFlight();
    }
    await running;
    await h.advance(cloudLimits.serviceRetryMaxMs);
    expect((await get(h, 'web')).status?.loadBalancer?.ingress).toEqual([{ ip: '127.98.0.1' }]);
    h.stop();
  });

  it('a reconcile in flight when the term ends makes no provider call after the term\'s stop()', async () => {
    const h = await cluster();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const get = h.api.get.bind(h.api);
    let asked = false;
    h.api.get = (async (resource: ResourceRef, namespace: string | undefined, name: string) => {
      if (resource.resource === 'services') {
        asked = true;
        await gate;
      }
      return get(resource, namespace, name);
    }) as typeof h.api.get;
    await h.api.create(refs.services, 'default', service('web'));
    const running = h.run();
    for (let turn = 0; turn < 100 && !asked; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toBe(true);
    h.stop();
    open();
    await running;
    expect(h.cloud.calls).toEqual([]);
    expect(h.cloud.stops).toBe(1);
    expect(h.thrown.some((e) => e instanceof LeadershipLostError)).toBe(true);
  });

  it.each(seeds)('a provider failing 50 %% of its calls (seed %i): every Service converges, and no reconcile ever leaves a corrupt state', async (seed) => {
    const h = await cluster({ seed });
    h.cloud.failureRate = 0.5;
    const names = ['s0', 's1', 's2', 's3', 's4', 's5'];
    const checkInvariants = async (): Promise<void> => {
      const { items } = await h.api.list<Obj>(refs.services);
      for (const svc of items) {
        const ingress = svc.status?.loadBalancer?.ingress ?? [];
        if (ingress.length === 0) continue;
        const held = [...h.cloud.balancers.values()].find((b) => b.ingress.some((i) => i.ip === ingress[0]?.ip));
        expect(held, `${svc.metadata.name}'s status names an address the cloud holds for it`).toBeDefined();
      }
      const finalized = new Set(items.filter((s) => (s.metadata.finalizers ?? []).includes(loadBalancerCleanupFinalizer)).map((s) => `a${s.metadata.uid?.replace(/-/g, '')}`.slice(0, 32)));
      for (const name of h.cloud.balancers.keys()) expect(finalized.has(name), `balancer ${name} has a Service whose deletion waits for it`).toBe(true);
    };
    const pending: Promise<void>[] = [];
    h.afterEach.push(() => void pending.push(checkInvariants()));
    for (const name of names) await h.api.create(refs.services, 'default', service(name));
    await h.run();
    await h.api.delete(refs.services, 'default', 's4');
    const s5 = await get(h, 's5');
    await h.api.update(refs.services, 'default', 's5', { ...s5, spec: { ...s5.spec, type: 'NodePort' } });
    for (let round = 0; round < 200; round++) {
      await h.advance(cloudLimits.serviceRetryMaxMs);
      const { items } = await h.api.list<Obj>(refs.services);
      const converged = items.every((s) => (s.spec?.type === 'LoadBalancer' ? (s.status?.loadBalancer?.ingress ?? []).length === 1 : (s.metadata.finalizers ?? []).length === 0))
        && items.length === 5 && h.cloud.balancers.size === 4;
      if (converged) break;
    }
    await Promise.all(pending);
    const { items } = await h.api.list<Obj>(refs.services);
    expect(items.map((s) => s.metadata.name).sort()).toEqual(['s0', 's1', 's2', 's3', 's5']);
    for (const svc of items.filter((s) => s.spec?.type === 'LoadBalancer')) expect(svc.status?.loadBalancer?.ingress).toHaveLength(1);
    expect((await get(h, 's5')).metadata.finalizers ?? []).toEqual([]);
    expect(h.cloud.balancers.size).toBe(4);
    const addresses = items.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip));
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(h.reasons()).toContain('SyncLoadBalancerFailed');
    expect(h.thrown).toEqual([]);
    h.stop();
  });
});
