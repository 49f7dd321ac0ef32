/**
 * Service addresses through the real API of a 3-member cluster whose ranges are small enough to
 * fill (127.96.0.0/24: 253 addresses to choose from; node ports 30000-30299): 200 NodePort
 * Services created at once, spread over the members, all get distinct ClusterIPs and node ports;
 * a full range answers 422 naming it; a deleted Service's address is handed out again; a
 * restarted member keeps every allocation. Also: explicit addresses (taken, out of range), type
 * changes (node ports allocated and released), a finalizer holding the address until it goes,
 * dry runs that allocate nothing, and the repair pass (run here in-process on the real store)
 * freeing a leaked record, recording an address held without one, and touching nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock, createJsonLogger } from '../../bus/index.js';
import { allocationRecordsPrefix, recordKey, startAllocationRepair, type AllocationRepair } from '../../actors/apiserver/services/index.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/index.js';
import { startApiHarness, type ApiHarness, type HttpReply } from './harness.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

const ipRange = '127.96.0.0/24';
const portRange = '30000-30299';
const ns = 'alloc';
const base = `/api/v1/namespaces/${ns}/services`;
const json = { 'Content-Type': 'application/json' };

let h: ApiHarness;
let repair: AllocationRepair;

type Spec = Record<string, unknown>;
const service = (name: string, spec: Spec = {}, metadata: Spec = {}): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Service', metadata: { name, ...metadata }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

/**
 * One request as a careful client sends it: a 429 (the fairness queues full under 200 at once)
 * and a 503/504 (a store write past its 1.5 s deadline on this loaded machine) are sent again,
 * bounded; a create answered 409 AlreadyExists after a 504 had landed, and reads back as created.
 */
async function call(method: string, path: string, body?: string, member?: string): Promise<HttpReply> {
  let uncertain = false;
  for (let attempt = 1; ; attempt++) {
    const reply = await h.request(method, path, { headers: json, ...(body !== undefined ? { body } : {}), ...(member !== undefined ? { member } : {}) });
    if (uncertain && method === 'POST' && reply.status === 409) {
      const name = (JSON.parse(body ?? '{}') as { metadata: { name: string } }).metadata.name;
      const stored = await h.request('GET', `${path}/${name}`, { headers: json });
      return { ...stored, status: 201 };
    }
    if (![429, 503, 504].includes(reply.status) || attempt >= 20) return reply;
    uncertain ||= reply.status === 504;
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt)); // a client's backoff, not a wait for state
  }
}

const parsed = (reply: HttpReply): any => JSON.parse(reply.body);

async function listServices(): Promise<any[]> {
  return parsed(await call('GET', '/api/v1/services')).items as any[];
}

/**
 * An address of 127.96.0.0/24 that no Service holds: earlier tests' random allocations may
 * hold any fixed one (a test naming 127.96.0.248 met one in CI and every later test inherited the clash).
 */
async function unheldAddress(): Promise<string> {
  const held = new Set((await listServices()).map((item) => item.spec.clusterIP));
  const found = Array.from({ length: 250 }, (_, i) => `127.96.0.${250 - i}`).find((ip) => !held.has(ip));
  if (found === undefined) throw new Error('test setup: every address of 127.96.0.0/24 is held');
  return found;
}

/** Every ClusterIP and node port held by the Services listed, with duplicates kept. */
function addressesOf(items: readonly any[]): { ips: string[]; ports: number[] } {
  const ips: string[] = [];
  const ports: number[] = [];
  for (const item of items) {
    if (typeof item.spec.clusterIP === 'string' && item.spec.clusterIP !== 'None' && item.spec.clusterIP !== '') ips.push(item.spec.clusterIP);
    const own = new Set<number>();
    for (const port of item.spec.ports ?? []) if (typeof port.nodePort === 'number') own.add(port.nodePort);
    if (typeof item.spec.healthCheckNodePort === 'number') own.add(item.spec.healthCheckNodePort);
    ports.push(...own);
  }
  return { ips, ports };
}

describe.runIf(runs)('Service address allocation', () => {
  beforeAll(async () => {
    h = await startApiHarness({ members: 3, serverArgs: ['--service-cluster-ip-range', ipRange, '--service-node-port-range', portRange, '--no-controller-manager', '--no-scheduler'] });
    expect((await call('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))).status).toBe(201);
    // The members run their own passes on a timer; this one is driven by the test.
    repair = startAllocationRepair({ client: await h.cluster.client(), objects: h.objects, clock: new SystemClock(), logger: createJsonLogger({ level: 'error' }) });
    repair.stop();
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('fills in Kubernetes\' defaults and allocates an address from the range', async () => {
    const created = await call('POST', base, service('web', { sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
    expect(created.status, created.body).toBe(201);
    const spec = parsed(created).spec;
    expect(spec).toMatchObject({
      type: 'ClusterIP', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }],
    });
    expect(spec.clusterIP).toMatch(/^127\.96\.0\.\d+$/);
    expect(spec.clusterIP).not.toBe('127.96.0.1'); // kept for the `kubernetes` Service
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    const headless = parsed(await call('POST', base, service('headless', { clusterIP: 'None' })));
    expect(headless.spec.clusterIP).toBe('None');
    const external = parsed(await call('POST', base, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } })));
    expect(external.spec.clusterIP).toBeUndefined();
  });

  it('checks explicit addresses: out of range, taken (422 in Kubernetes\' words), dry runs take nothing', async () => {
    const outside = await call('POST', base, service('outside', { clusterIP: '127.97.0.5' }));
    expect(outside.status).toBe(422);
    expect(parsed(outside).message).toContain(`provided IP is not in the valid range. The range of valid IPs is ${ipRange}`);
    // An address no Service holds yet (earlier tests' random allocations may hold any of the range).
    const existing = await listServices();
    const heldPorts = new Set(existing.flatMap((item) => (item.spec.ports ?? []).map((port: { nodePort?: number }) => port.nodePort)));
    const explicitPort = Array.from({ length: 300 }, (_, i) => 30299 - i).find((port) => !heldPorts.has(port)) as number;
    const explicit = await unheldAddress();
    const dry = await call('POST', `${base}?dryRun=All`, service('fixed', { clusterIP: explicit }));
    expect(dry.status, dry.body).toBe(201);
    const fixed = await call('POST', base, service('fixed', { clusterIP: explicit }));
    expect(fixed.status, fixed.body).toBe(201);
    const again = await call('POST', base, service('fixed-again', { clusterIP: explicit }), 's2');
    expect(again.status).toBe(422);
    expect(parsed(again).message).toContain('provided IP is already allocated');
    const lowPort = await call('POST', base, service('low-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }));
    expect(lowPort.status).toBe(422);
    expect(parsed(lowPort).message).toContain(`provided port is not in the valid range. The range of valid ports is ${portRange}`);
    expect((await call('POST', base, service('port-a', { type: 'NodePort', ports: [{ port: 80, nodePort: explicitPort }] }))).status).toBe(201);
    const portB = await call('POST', base, service('port-b', { type: 'NodePort', ports: [{ port: 80, nodePort: explicitPort }] }), 's3');
    expect(portB.status).toBe(422);
    expect(parsed(portB).message).toContain(`spec.ports[0].nodePort: Invalid value: ${explicitPort}: provided port is already allocated`);
  });

  it('allocates node ports on ClusterIP → NodePort and releases them on NodePort → ClusterIP', async () => {
    expect((await call('POST', base, service('flip'))).status).toBe(201);
    const toNodePort = await h.request('PATCH', `${base}/flip`, { headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { type: 'NodePort' } }) });
    expect(toNodePort.status, toNodePort.body).toBe(200);
    const nodePort = parsed(toNodePort).spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(parsed(toNodePort).spec.externalTrafficPolicy).toBe('Cluster');
    const back = await h.request('PATCH', `${base}/flip`, { headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { type: 'ClusterIP' } }) });
    expect(back.status, back.body).toBe(200);
    expect(parsed(back).spec.ports[0].nodePort).toBeUndefined();
    // The released port is free again: another Service may name it.
    const taker = await call('POST', base, service('taker', { type: 'NodePort', ports: [{ port: 80, nodePort }] }));
    expect(taker.status, taker.body).toBe(201);
  });

  it('works with kubectl: create -f a NodePort Service, apply twice keeps the address, patch to ClusterIP drops the node port; a status write keeps them', async () => {
    // `kubectl create service` generators send protobuf, which kubus does not read: a manifest instead.
    const kcManifest = h.manifest('kc.yaml', `apiVersion: v1\nkind: Service\nmetadata:\n  name: kc\n  namespace: ${ns}\nspec:\n  type: NodePort\n  selector: {app: kc}\n  ports: [{port: 80, targetPort: 8080}]\n`);
    const created = await h.kubectl(['create', '-f', kcManifest]);
    expect(created.code, created.stderr).toBe(0);
    const kc = JSON.parse((await h.kubectl(['-n', ns, 'get', 'service', 'kc', '-o', 'json'])).stdout);
    expect(kc.spec.clusterIP).toMatch(/^127\.96\.0\.\d+$/);
    expect(kc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    const manifest = h.manifest('applied.yaml', `apiVersion: v1\nkind: Service\nmetadata:\n  name: applied\n  namespace: ${ns}\nspec:\n  type: LoadBalancer\n  selector: {app: applied}\n  ports: [{port: 80}]\n`);
    expect((await h.kubectl(['apply', '-f', manifest])).code).toBe(0);
    const first = parsed(await call('GET', `${base}/applied`)).spec;
    expect(first).toMatchObject({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' });
    expect((await h.kubectl(['apply', '-f', manifest])).code).toBe(0);
    const second = parsed(await call('GET', `${base}/applied`));
    expect([second.spec.clusterIP, second.spec.ports[0].nodePort]).toEqual([first.clusterIP, first.ports[0].nodePort]);
    // What the cloud controller manager writes: status only, addresses untouched.
    const status = await call('PUT', `${base}/applied/status`, JSON.stringify({ ...second, status: { loadBalancer: { ingress: [{ ip: '127.98.0.1' }] } } }));
    expect(status.status, status.body).toBe(200);
    expect(parsed(status).spec.ports[0].nodePort).toBe(first.ports[0].nodePort);
    const patched = await h.kubectl(['-n', ns, 'patch', 'service', 'kc', '-p', '{"spec":{"type":"ClusterIP"}}']);
    expect(patched.code, patched.stderr).toBe(0);
    const after = parsed(await call('GET', `${base}/kc`)).spec;
    expect(after.ports[0].nodePort).toBeUndefined();
    expect(after.clusterIP).toBe(kc.spec.clusterIP);
  }, 60_000);

  it('keeps the address of a Service held by a finalizer until the finalizer goes', async () => {
    const held = parsed(await call('POST', base, service('held', {}, { finalizers: ['example.com/hold'] })));
    const ip = held.spec.clusterIP as string;
    expect((await call('DELETE', `${base}/held`)).status).toBe(200);
    expect((await call('POST', base, service('held-taker', { clusterIP: ip }))).status).toBe(422);
    const released = await h.request('PATCH', `${base}/held`, { headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ metadata: { finalizers: null } }) });
    expect(released.status, released.body).toBe(200);
    expect((await call('GET', `${base}/held`)).status).toBe(404);
    const taker = await call('POST', base, service('held-taker', { clusterIP: ip }));
    expect(taker.status, taker.body).toBe(201);
  });

  it('repair frees a record whose owner is gone, so the address can be named again', async () => {
    const client = await h.cluster.client();
    // An address no Service holds (an earlier random allocation may hold any fixed one).
    const address = await unheldAddress();
    const leaked = recordKey({ kind: 'ip', value: 127 * 2 ** 24 + 96 * 2 ** 16 + Number(address.split('.')[3]) });
    await client.put({ key: leaked, value: new TextEncoder().encode(JSON.stringify({ owner: { namespace: ns, name: 'long-gone', uid: 'u-gone' }, clusterIP: address })) });
    const refused = await call('POST', base, service('wants-leaked', { clusterIP: address }));
    expect(refused.status).toBe(422);
    expect(await repair.runOnce()).toEqual({ freed: 1, adopted: 0 });
    expect((await client.get(leaked))).toBeNull();
    const taken = await call('POST', base, service('wants-leaked', { clusterIP: address }));
    expect(taken.status, taken.body).toBe(201);
  });

  it('repair records the address of a Service written around the allocator, so it is not handed out twice', async () => {
    // The harness's own ObjectStore has no allocator: as a Service stored before allocation existed.
    const address = await unheldAddress();
    await h.objects.create(findResource('', 'v1', 'services') as ResourceInfo, ns, JSON.parse(service('legacy', { clusterIP: address })));
    expect(await repair.runOnce()).toEqual({ freed: 0, adopted: 1 });
    const refused = await call('POST', base, service('wants-legacy', { clusterIP: address }));
    expect(refused.status).toBe(422);
    expect(parsed(refused).message).toContain('provided IP is already allocated');
  });

  it('gives 200 NodePort Services created at once over three members distinct ClusterIPs and node ports', async () => {
    const members = ['s1', 's2', 's3'];
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      call('POST', base, service(`many-${i}`, { type: 'NodePort' }), members[i % members.length])));
    const failed = replies.filter((reply) => reply.status !== 201);
    expect(failed.map((reply) => `${reply.status} ${reply.body}`)).toEqual([]);
    const { ips, ports } = addressesOf(await listServices());
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(ports).size).toBe(ports.length);
  }, 60_000);

  it('answers 422 naming the range when a range is full, and hands a deleted Service\'s address out again', async () => {
    // 300 node ports; fill what is left with Services of 20 ports each.
    let portsFull: HttpReply | null = null;
    for (let i = 0; i < 10 && portsFull === null; i++) {
      const ports = Array.from({ length: 20 }, (_, p) => ({ name: `p${p}`, port: 1000 + p }));
      const reply = await call('POST', base, service(`wide-${i}`, { type: 'NodePort', ports }));
      if (reply.status === 422) portsFull = reply;
      else expect(reply.status, reply.body).toBe(201);
    }
    expect(portsFull).not.toBeNull();
    expect(parsed(portsFull as HttpReply).message).toContain(`Internal error: range ${portRange} is full`);
    let ipsFull: HttpReply | null = null;
    for (let i = 0; i < 260 && ipsFull === null; i++) {
      const reply = await call('POST', base, service(`fill-${i}`));
      if (reply.status === 422) ipsFull = reply;
      else expect(reply.status, reply.body).toBe(201);
    }
    expect(parsed(ipsFull as HttpReply).message).toContain(`spec.clusterIPs: Internal error: range ${ipRange} is full`);
    const { ips } = addressesOf(await listServices());
    expect(new Set(ips).size).toBe(ips.length);
    // Every address but the network, broadcast and `kubernetes` ones is held.
    expect(ips.filter((ip) => ip !== '127.96.0.1')).toHaveLength(253);
    const victim = parsed(await call('GET', `${base}/many-7`));
    expect((await call('DELETE', `${base}/many-7`)).status).toBe(200);
    const reuse = await call('POST', base, service('reuse', { type: 'NodePort' }), 's3');
    expect(reuse.status, reuse.body).toBe(201);
    // The only free address is the deleted Service's.
    expect(parsed(reuse).spec.clusterIP).toBe(victim.spec.clusterIP);
  }, 60_000);

  it('keeps every allocation across a member restart', async () => {
    await h.cluster.restart('s2');
    await h.waitReady('s2');
    const taken = parsed(await call('GET', `${base}/fixed`)).spec.clusterIP as string;
    const duplicate = await call('POST', base, service('after-restart', { clusterIP: taken }), 's2');
    expect(duplicate.status).toBe(422);
    expect(parsed(duplicate).message).toContain('provided IP is already allocated');
    const full = await call('POST', base, service('after-restart'), 's2');
    expect(full.status).toBe(422);
    expect(parsed(full).message).toContain(`range ${ipRange} is full`);
    expect((await call('DELETE', `${base}/fixed`, undefined, 's1')).status).toBe(200);
    // The restarted member chooses from its reloaded view (or re-reads the records when it looks full).
    await waitUntil('the freed address handed out by the restarted member', async () => (await call('POST', base, service('after-restart'), 's2')).status === 201, { timeoutMs: 10_000, intervalMs: 200 });
    expect(parsed(await call('GET', `${base}/after-restart`)).spec.clusterIP).toBe(taken);
    const { ips, ports } = addressesOf(await listServices());
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(ports).size).toBe(ports.length);
    // Nothing leaked and nothing is freed: one record per held address.
    expect(await repair.runOnce()).toEqual({ freed: 0, adopted: 0 });
    const client = await h.cluster.client();
    const records = await client.range({ key: allocationRecordsPrefix, prefix: true, countOnly: true });
    expect(records.result.count).toBe(ips.length + ports.length);
  }, 60_000);
});
