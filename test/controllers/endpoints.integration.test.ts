/**
 * Endpoints and EndpointSlices on a 3-member cluster of real processes (the controllers run in the
 * member holding the controller-manager Lease). Pods are created bound to hollow nodes and their
 * status (IP, Ready) is written as a kubelet would, so the suite needs no scheduler or node agent.
 *
 * - A Service selecting 3 pods, one of which serves its named port on another number: Endpoints
 *   hold exactly the ready and not-ready addresses in two subsets; EndpointSlices hold the same
 *   endpoints in one slice per port set, labelled, owned by the Service, with conditions.
 * - Readiness flips move addresses between `addresses` and `notReadyAddresses` (and the slice
 *   condition); publishNotReadyAddresses publishes not-ready pods; a terminating pod (held by a
 *   finalizer) leaves Endpoints and stays in its slice as terminating; a deleted pod disappears.
 * - 150 ready pods, then their Service: two slices of 100 and 50; one pod turning not ready
 *   rewrites only the slice holding it.
 * - A Service without a selector keeps the Endpoints its user wrote; a deleted Service's
 *   Endpoints are deleted, and its slices collected (they are owned by it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { refs, type ApiClient } from '../../actors/controllers/runtime/index.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'ep';
const settleMs = 30_000;

/** A write the store could not confirm (5xx: "may or may not have been applied") or a 429 is tried again; the suites share two busy cores. */
async function retrying<T>(what: string, write: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const status = (error as { httpStatus?: number }).httpStatus ?? 0;
      if (attempt >= attempts || (status < 500 && status !== 429)) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

describe.runIf(runs)('Endpoints and EndpointSlices (3 members)', () => {
  let h: ApiHarness;
  let api: ApiClient;
  let renewer: NodeLeaseRenewer;
  const ips = new Map<string, string>();

  async function createPod(name: string, labels: Record<string, string>, options: { port?: number; node?: string; finalizers?: string[] } = {}): Promise<Pod> {
    const body = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, labels, ...(options.finalizers !== undefined ? { finalizers: options.finalizers } : {}) },
      spec: { nodeName: options.node ?? 'hollow-1', containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: options.port ?? 8080 }] }] },
    };
    // A retried create may find its first attempt applied.
    return retrying(`create pod ${name}`, () => api.create<Pod>(refs.pods, ns, body).catch(async (error: unknown) => {
      if ((error as { code?: string }).code === 'alreadyExists') return api.get<Pod>(refs.pods, ns, name);
      throw error;
    }));
  }

  /** Writes the pod's status as a kubelet would: Running, an IP, Ready as given. */
  async function setReady(name: string, ready: boolean): Promise<void> {
    for (;;) {
      const pod = await retrying(`get pod ${name}`, () => api.get<Pod>(refs.pods, ns, name));
      const ip = ips.get(name) ?? `10.20.${Math.floor(ips.size / 250)}.${(ips.size % 250) + 1}`;
      ips.set(name, ip);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const status = { ...pod.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] };
      try {
        await retrying(`status of ${name}`, () => api.update(refs.pods, ns, name, { ...pod, status }, { subresource: 'status' }));
        return;
      } catch (error) {
        if ((error as { cause?: { code?: string } }).cause?.code !== 'conflict') throw error;
      }
    }
  }

  const endpointsOf = (name: string) => api.get<Endpoints>(refs.endpoints, ns, name).catch(() => null);
  const slicesOf = async (name: string): Promise<EndpointSlice[]> =>
    (await api.list<EndpointSlice>(refs.endpointslices, { namespace: ns, labelSelector: `kubernetes.io/service-name=${name}` })).items;
  const address = (pod: string, node = 'hollow-1') => ({ ip: ips.get(pod), nodeName: node, targetRef: { kind: 'Pod', namespace: ns, name: pod, uid: uids.get(pod) } });
  const uids = new Map<string, string>();

  /** Waits until the Service's subsets read as `want` (ready and not-ready pod names per port) and returns the Endpoints. */
  async function subsetsBecome(service: string, want: { ready: string[]; notReady: string[]; port: number }[]): Promise<Endpoints> {
    const shape = (e: Endpoints | null) => (e?.subsets ?? []).map((s) => ({
      ready: (s.addresses ?? []).map((a) => a.targetRef?.name ?? '').sort(), notReady: (s.notReadyAddresses ?? []).map((a) => a.targetRef?.name ?? '').sort(), port: s.ports?.[0]?.port,
    })).sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
    const sorted = [...want].map((w) => ({ ...w, ready: [...w.ready].sort(), notReady: [...w.notReady].sort() })).sort((a, b) => a.port - b.port);
    let last: unknown = null;
    try {
      return await waitUntil(`${service} endpoints ${JSON.stringify(want)}`, async () => {
        const e = await endpointsOf(service);
        last = shape(e);
        return JSON.stringify(last) === JSON.stringify(sorted) ? e : null;
      }, { timeoutMs: settleMs });
    } catch (error) {
      throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(last)}`);
    }
  }

  /** Waits until the Service's slices hold, per pod name, these conditions; returns the slices. */
  async function slicesBecome(service: string, want: Record<string, { ready: boolean; serving: boolean; terminating: boolean }>): Promise<EndpointSlice[]> {
    return waitUntil(`${service} slices ${JSON.stringify(want)}`, async () => {
      const slices = await slicesOf(service);
      const seen: Record<string, unknown> = {};
      for (const s of slices) for (const e of s.endpoints) seen[e.targetRef?.name ?? ''] = e.conditions;
      return JSON.stringify(Object.fromEntries(Object.entries(seen).sort())) === JSON.stringify(Object.fromEntries(Object.entries(want).sort())) ? slices : null;
    }, { timeoutMs: settleMs });
  }

  beforeAll(async () => {
    h = await startApiHarness();
    api = adminApi(h);
    const nodes = await createHollowNodes(h, 2);
    renewer = startNodeLeaseRenewer(h, nodes);
    await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterAll(async () => {
    await renewer?.stop();
    await h?.stop();
  });

  it('a Service with 3 pods: ready and not-ready addresses, per-pod ports by name, slices per port set', async () => {
    await api.create(refs.services, ns, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'web', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    for (const [name, port, node] of [['w1', 8080, 'hollow-1'], ['w2', 8080, 'hollow-2'], ['w3', 9090, 'hollow-1']] as const) {
      uids.set(name, (await createPod(name, { app: 'web' }, { port, node })).metadata?.uid ?? '');
    }
    await setReady('w1', true);
    await setReady('w2', true);
    await setReady('w3', false);
    const endpoints = await subsetsBecome('web', [{ ready: ['w1', 'w2'], notReady: [], port: 8080 }, { ready: [], notReady: ['w3'], port: 9090 }]);
    const byPort = (port: number) => endpoints.subsets?.find((s) => s.ports?.[0]?.port === port);
    expect(byPort(8080)).toEqual({ addresses: [address('w1'), address('w2', 'hollow-2')].sort((a, b) => (a.ip ?? '').localeCompare(b.ip ?? '', 'en', { numeric: true })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
    expect(byPort(9090)).toEqual({ notReadyAddresses: [address('w3')], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
    expect(endpoints.metadata?.labels).toEqual({ tier: 'front' });
    expect(Date.parse(endpoints.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '')).toBeGreaterThan(0);

    const slices = await slicesBecome('web', {
      w1: { ready: true, serving: true, terminating: false }, w2: { ready: true, serving: true, terminating: false }, w3: { ready: false, serving: false, terminating: false },
    });
    const service = await api.get<{ metadata: { uid: string } }>(refs.services, ns, 'web');
    expect(slices.map((s) => [s.ports, s.endpoints.length]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      [[{ name: 'http', port: 8080, protocol: 'TCP' }], 2], [[{ name: 'http', port: 9090, protocol: 'TCP' }], 1],
    ]);
    for (const slice of slices) {
      expect(slice.addressType).toBe('IPv4');
      expect(slice.metadata?.name?.startsWith('web-')).toBe(true);
      expect(slice.metadata?.labels).toEqual({ tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
      expect(slice.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: service.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    // kubectl reads them as on Kubernetes: ready addresses with their ports; one row per slice.
    const listed = await h.kubectl(['get', 'endpoints', 'web', '-n', ns, '--no-headers']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split(/\s+/).slice(0, 2)).toEqual(['web', [ips.get('w1'), ips.get('w2')].sort((a, b) => (a ?? '').localeCompare(b ?? '', 'en', { numeric: true })).map((ip) => `${ip}:8080`).join(',')]);
    const slicesTable = await h.kubectl(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=web', '--no-headers']);
    expect(slicesTable.code, slicesTable.stderr).toBe(0);
    expect(slicesTable.stdout.trim().split('\n').map((line) => line.split(/\s+/).slice(1, 3)).sort()).toEqual([['IPv4', '8080'], ['IPv4', '9090']]);
    const w3 = slices.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === 'w3');
    expect(w3).toEqual({ addresses: [ips.get('w3')], conditions: { ready: false, serving: false, terminating: false }, nodeName: 'hollow-1', targetRef: address('w3').targetRef });
  });

  it('readiness moves addresses between ready and not ready, in Endpoints and slices', async () => {
    await setReady('w3', true);
    await setReady('w1', false);
    await subsetsBecome('web', [{ ready: ['w2'], notReady: ['w1'], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    await slicesBecome('web', {
      w1: { ready: false, serving: false, terminating: false }, w2: { ready: true, serving: true, terminating: false }, w3: { ready: true, serving: true, terminating: false },
    });
  });

  it('publishNotReadyAddresses publishes not-ready pods as ready; turning it off moves them back', async () => {
    await api.patch(refs.services, ns, 'web', { spec: { publishNotReadyAddresses: true } }, 'merge');
    await subsetsBecome('web', [{ ready: ['w1', 'w2'], notReady: [], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    await slicesBecome('web', {
      w1: { ready: true, serving: false, terminating: false }, w2: { ready: true, serving: true, terminating: false }, w3: { ready: true, serving: true, terminating: false },
    });
    await api.patch(refs.services, ns, 'web', { spec: { publishNotReadyAddresses: false } }, 'merge');
    await subsetsBecome('web', [{ ready: ['w2'], notReady: ['w1'], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
  });

  it('a terminating pod leaves Endpoints and stays in its slice as terminating; a deleted pod disappears', async () => {
    uids.set('w4', (await createPod('w4', { app: 'web' }, { finalizers: ['example.com/hold'] })).metadata?.uid ?? '');
    await setReady('w4', true);
    await subsetsBecome('web', [{ ready: ['w2', 'w4'], notReady: ['w1'], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    await api.delete(refs.pods, ns, 'w4');
    await subsetsBecome('web', [{ ready: ['w2'], notReady: ['w1'], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    await slicesBecome('web', {
      w1: { ready: false, serving: false, terminating: false }, w2: { ready: true, serving: true, terminating: false },
      w3: { ready: true, serving: true, terminating: false }, w4: { ready: false, serving: true, terminating: true },
    });
    await api.patch(refs.pods, ns, 'w4', { metadata: { finalizers: null } }, 'merge');
    await api.delete(refs.pods, ns, 'w2');
    await subsetsBecome('web', [{ ready: [], notReady: ['w1'], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    await slicesBecome('web', { w1: { ready: false, serving: false, terminating: false }, w3: { ready: true, serving: true, terminating: false } });
  });

  it('150 ready pods, then their Service: two slices of 100 and 50, 150 ready addresses; a readiness change rewrites one slice', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `b${i + 1}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map(async (name) => { await createPod(name, { app: 'big' }); }));
    }
    for (const name of names) ips.set(name, `10.30.${Math.floor(ips.size / 250)}.${(ips.size % 250) + 1}`);
    for (let i = 0; i < names.length; i += 25) await Promise.all(names.slice(i, i + 25).map((name) => setReady(name, true)));
    // The Service comes last, so one sync sees all 150 (pods arriving over time fill slices as they come, as in Kubernetes).
    await api.create(refs.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big' }, spec: { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 8080 }] } });
    let lastSizes = '';
    const slices = await waitUntil('two slices of 100 and 50', async () => {
      const found = await slicesOf('big');
      lastSizes = JSON.stringify(found.map((s) => [s.metadata?.name, s.endpoints.length, s.endpoints.filter((e) => e.conditions?.ready === true).length]));
      const sizes = found.map((s) => s.endpoints.length).sort((a, b) => b - a);
      return JSON.stringify(sizes) === '[100,50]' && found.every((s) => s.endpoints.every((e) => e.conditions?.ready === true)) ? found : null;
    }, { timeoutMs: settleMs }).catch((error: Error) => { throw new Error(`${error.message}; last slices (name, endpoints, ready) ${lastSizes}`); });
    expect(new Set(slices.flatMap((s) => s.endpoints.map((e) => e.targetRef?.name))).size).toBe(150);
    const endpoints = await waitUntil('150 ready addresses', async () => {
      const e = await endpointsOf('big');
      return e?.subsets?.[0]?.addresses?.length === 150 ? e : null;
    }, { timeoutMs: settleMs });
    expect(endpoints.subsets?.length).toBe(1);

    // Minimal churn: one pod turning not ready rewrites only the slice that holds it.
    const holder = slices.find((s) => s.endpoints.some((e) => e.targetRef?.name === 'b1')) as EndpointSlice;
    const other = slices.find((s) => s !== holder) as EndpointSlice;
    await setReady('b1', false);
    const after = await waitUntil('b1 not ready in its slice', async () => {
      const found = await slicesOf('big');
      const b1 = found.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === 'b1');
      return b1?.conditions?.ready === false ? found : null;
    }, { timeoutMs: settleMs });
    expect(after.map((s) => s.metadata?.name).sort()).toEqual([holder.metadata?.name, other.metadata?.name].sort());
    expect(after.find((s) => s.metadata?.name === other.metadata?.name)?.metadata?.resourceVersion).toBe(other.metadata?.resourceVersion);
    expect(after.find((s) => s.metadata?.name === holder.metadata?.name)?.endpoints.length).toBe(holder.endpoints.length);
  });

  it('a Service without a selector keeps its user-written Endpoints; a deleted Service loses its Endpoints', async () => {
    await api.create(refs.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 5432 }] } });
    const written = await api.create<Endpoints>(refs.endpoints, ns, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432, protocol: 'TCP' }] }],
    });
    // The controller is seen at work on another Service after the write; the manual one is untouched.
    await setReady('w1', true);
    await subsetsBecome('web', [{ ready: ['w1'], notReady: [], port: 8080 }, { ready: ['w3'], notReady: [], port: 9090 }]);
    const after = await endpointsOf('manual');
    expect(after?.metadata?.resourceVersion).toBe(written.metadata?.resourceVersion);
    expect(after?.subsets).toEqual([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
    expect(await slicesOf('manual')).toEqual([]);

    await api.delete(refs.services, ns, 'web');
    await waitUntil('web Endpoints deleted', async () => (await endpointsOf('web')) === null, { timeoutMs: settleMs });
    // Its slices are owned by it: the garbage collector takes them.
    await waitUntil('web EndpointSlices collected', async () => (await slicesOf('web')).length === 0, { timeoutMs: settleMs });
  });
});
