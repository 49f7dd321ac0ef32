/**
 * The node's Service catalog: endpoints of a service port merged across slices (port matched by
 * name and protocol, Kubernetes' condition defaults, one endpoint per address with the ready copy
 * winning, a stable order); the cluster IP index and the change feed (one call per microtask with
 * every Service touched); and the informer-fed catalog keeping its last state while the API is down
 * (a failed relist changes nothing), then replaced wholesale by the first relist that succeeds.
 */
import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SimulatedClock } from '../../../bus/clock.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { KubeObject } from '../../../actors/objects/meta.js';
import { createMemoryCatalog, resolveEndpoints, startServiceCatalog, type ServiceKey } from '../../../nodeagent/services/index.js';
import { FakeApi, settle } from '../../controllers/runtime/fake-api.js';
import { silentLogger } from '../kubelet/harness.js';
import { service, slice } from '../proxy/fixtures.js';

const web: ServiceKey = { namespace: 'default', name: 'web' };

describe('resolveEndpoints', () => {
  it('merges slices, matches the port by name and protocol, de-duplicates by address (ready wins) and sorts', () => {
    const a = slice('web', [{ address: '10.0.0.3' }, { address: '10.0.0.1', ready: false }], [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }], { name: 'a' });
    const b = slice('web', [{ address: '10.0.0.1', nodeName: 'n2' }, { address: '10.0.0.2', ready: false, serving: true, terminating: true }], [{ name: 'http', port: 8080 }], { name: 'b' });
    const other = slice('web', [{ address: '10.0.0.9' }], [{ name: 'metrics', port: 9090 }], { name: 'c' });
    const http = resolveEndpoints([a, b, other], 'http', 'TCP');
    expect(http.map((e) => [e.address, e.port, e.ready, e.serving, e.terminating, e.nodeName])).toEqual([
      ['10.0.0.1', 8080, true, true, false, 'n2'],
      ['10.0.0.2', 8080, false, true, true, undefined],
      ['10.0.0.3', 8080, true, true, false, undefined],
    ]);
    expect(resolveEndpoints([a, b, other], 'dns', 'UDP').map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(resolveEndpoints([a, b, other], 'http', 'UDP')).toEqual([]);
  });

  it('reads absent conditions as Kubernetes does (ready, serving as ready, not terminating)', () => {
    const bare = { ...slice('web', [], [{ port: 80 }]), endpoints: [{ addresses: ['10.0.0.5'] }] } as EndpointSlice;
    expect(resolveEndpoints([bare], '', 'TCP')).toEqual([{ address: '10.0.0.5', port: 80, ready: true, serving: true, terminating: false }]);
  });
});

describe('memory catalog', () => {
  it('indexes cluster IPs, memoizes endpoints until the Service changes, and announces changes once per microtask', async () => {
    const catalog = createMemoryCatalog();
    const announced: string[][] = [];
    catalog.subscribe((keys) => announced.push(keys.map((k) => `${k.namespace}/${k.name}`)));
    catalog.setService(service('web', { clusterIP: '127.96.0.10', ports: [{ name: 'http', port: 80 }] }));
    catalog.setSlice(slice('web', [{ address: '10.0.0.1' }], [{ name: 'http', port: 8080 }]));
    catalog.setService(service('db', { clusterIP: '127.96.0.11', ports: [{ port: 5432 }] }));
    await settle();
    expect(announced).toEqual([['default/web', 'default/db']]);
    expect(catalog.byClusterIp('127.96.0.10')?.service.metadata?.name).toBe('web');
    const first = catalog.endpointsFor(web, 'http', 'TCP');
    expect(catalog.endpointsFor(web, 'http', 'TCP')).toBe(first);
    catalog.setSlice(slice('web', [{ address: '10.0.0.1' }, { address: '10.0.0.2' }], [{ name: 'http', port: 8080 }]));
    expect(catalog.endpointsFor(web, 'http', 'TCP').map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    catalog.setService(service('web', { clusterIP: '127.96.0.12', ports: [{ name: 'http', port: 80 }] }));
    expect(catalog.byClusterIp('127.96.0.10')).toBeUndefined();
    expect(catalog.get(web)?.slices).toHaveLength(1);
    catalog.deleteService(service('db', { clusterIP: '127.96.0.11', ports: [] }));
    expect([...catalog.entries()].map((e) => e.service.metadata?.name)).toEqual(['web']);
  });
});

describe('informer catalog', () => {
  const asObject = (value: Service | EndpointSlice): KubeObject => value as unknown as KubeObject;

  it('syncs from the API, follows watch events, keeps its state while the API is down, and takes the next successful relist whole', async () => {
    const api = new FakeApi();
    const clock = new SimulatedClock();
    api.putSilently(refs.services, asObject(service('web', { clusterIP: '127.96.0.10', ports: [{ port: 80 }] })));
    api.putSilently(refs.services, asObject(service('db', { clusterIP: '127.96.0.11', ports: [{ port: 5432 }] })));
    api.putSilently(refs.endpointslices, asObject(slice('web', [{ address: '10.0.0.1' }], [{ port: 8080 }])));
    const catalog = startServiceCatalog({ api, clock, logger: silentLogger(), nodeName: 'n1' });
    await settle();
    expect(catalog.synced()).toBe(true);
    expect(await catalog.waitForSync(1_000)).toBe(true);
    expect(catalog.endpointsFor(web, '', 'TCP').map((e) => e.address)).toEqual(['10.0.0.1']);

    await api.create(refs.endpointslices, 'default', asObject(slice('web', [{ address: '10.0.0.2' }], [{ port: 8080 }], { name: 'web-2' })));
    expect(catalog.endpointsFor(web, '', 'TCP').map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);

    // Quorum loss: the watches end and nothing answers; meanwhile `db` is deleted.
    api.down = true;
    api.endWatches(refs.services, new Error('member gone'));
    api.endWatches(refs.endpointslices, new Error('member gone'));
    api.deleteSilently(refs.services, 'default/db');
    for (let i = 0; i < 5; i++) {
      clock.advance(30_000);
      await settle();
    }
    expect([...catalog.entries()].map((e) => e.service.metadata?.name).sort()).toEqual(['db', 'web']);
    expect(catalog.endpointsFor(web, '', 'TCP')).toHaveLength(2);
    expect(catalog.synced()).toBe(true);

    // The API answers again: the watch resumes (or relists) and the catalog catches up.
    api.down = false;
    api.compactedThrough = api.revision; // the old resourceVersion is gone: a relist, replacing the state
    clock.advance(30_000);
    await settle(50);
    expect([...catalog.entries()].map((e) => e.service.metadata?.name)).toEqual(['web']);
    expect(catalog.byClusterIp('127.96.0.11')).toBeUndefined();
    catalog.stop();
  });

  it('says it is not synced, and waitForSync answers false at its deadline or at stop, while the API never answered', async () => {
    const api = new FakeApi();
    api.down = true;
    const clock = new SimulatedClock();
    const catalog = startServiceCatalog({ api, clock, logger: silentLogger(), nodeName: 'n1' });
    const waiting = catalog.waitForSync(5_000);
    clock.advance(5_000);
    expect(await waiting).toBe(false);
    expect(catalog.synced()).toBe(false);
    const pending = catalog.waitForSync(60_000);
    catalog.stop();
    expect(await pending).toBe(false); // at once, with no time passing: a stopped catalog holds no timer
  });
});
