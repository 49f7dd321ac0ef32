/**
 * The `kubernetes` Service on a real 3-member cluster (test/apiserver/harness.ts): every member
 * publishes its API endpoint through its Lease, so Service default/kubernetes (127.96.0.1:443,
 * no selector) gets one EndpointSlice per member port (the members share 127.0.0.1), which the
 * EndpointSlice controller leaves alone; a member stopped cleanly leaves the endpoints at once,
 * comes back when restarted, and a killed member leaves once its Lease has expired (15 s).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from './harness.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

interface SliceJson {
  metadata: { name: string; labels?: Record<string, string> };
  endpoints?: { addresses: string[] }[];
  ports?: { name?: string; port: number }[];
}

describe.runIf(runs)('the kubernetes Service (3 real members)', () => {
  let h: ApiHarness;
  /** member id → `127.0.0.1:<port>` of its API. */
  const endpointOf = new Map<string, string>();

  beforeAll(async () => {
    h = await startApiHarness({ members: 3 });
    for (const [id, url] of h.urls) endpointOf.set(id, new URL(url).host);
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  async function published(): Promise<string[]> {
    const reply = await h.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes');
    if (reply.status !== 200) return [];
    const slices = (JSON.parse(reply.body) as { items: SliceJson[] }).items;
    return slices.flatMap((slice) => (slice.endpoints ?? []).flatMap((e) => e.addresses.map((address) => `${address}:${slice.ports?.[0]?.port ?? 0}`))).sort();
  }

  const expected = (ids: readonly string[]): string[] => ids.map((id) => endpointOf.get(id) as string).sort();

  /** What a failed wait shows: the member's log lines about its stop and the kubernetes Service. */
  const memberLog = (id: string): string => {
    try {
      return readFileSync(h.cluster.logPath(id), 'utf8').split('\n').filter((line) => /kubernetes|stop|exit/i.test(line)).slice(-12).join('\n');
    } catch {
      return '(no log)';
    }
  };

  it('Service default/kubernetes has the first address of the range, 443 https, and every member as an endpoint', async () => {
    const service = await waitUntil('the kubernetes Service', async () => {
      const reply = await h.request('GET', '/api/v1/namespaces/default/services/kubernetes');
      return reply.status === 200 ? JSON.parse(reply.body) as { spec: Record<string, any> } : null;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    expect(service.spec['clusterIP']).toBe('127.96.0.1');
    expect(service.spec['ports']).toMatchObject([{ name: 'https', port: 443, protocol: 'TCP' }]);
    expect(service.spec['selector']).toBeUndefined();
    await waitUntil('all three members published', async () => JSON.stringify(await published()) === JSON.stringify(expected(['s1', 's2', 's3'])), { timeoutMs: 30_000, intervalMs: 200 });
    const slices = JSON.parse((await h.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes')).body) as { items: SliceJson[] };
    expect(slices.items.map((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'])).toEqual(['endpoint-reconciler.kubus.io', 'endpoint-reconciler.kubus.io', 'endpoint-reconciler.kubus.io']);
    expect(slices.items.map((s) => s.metadata.name)).toContain('kubernetes');
    // The Endpoints object is written beside the slices, not in one txn: a pass that lost its race on
    // it leaves it to the next pass (10 s), so it is waited for too.
    const endpointsListed = async (): Promise<string[]> => {
      const endpoints = JSON.parse((await h.request('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body) as { subsets?: { addresses: { ip: string }[]; ports: { port: number }[] }[] };
      return (endpoints.subsets ?? []).flatMap((s) => s.addresses.map((a) => `${a.ip}:${s.ports[0]?.port ?? 0}`)).sort();
    };
    await waitUntil('the Endpoints list all three members', async () => JSON.stringify(await endpointsListed()) === JSON.stringify(expected(['s1', 's2', 's3'])), { timeoutMs: 30_000, intervalMs: 200 });
    // Each published endpoint is a member's API.
    for (const id of ['s1', 's2', 's3']) expect((await h.request('GET', '/version', { member: id })).status).toBe(200);
  }, 60_000);

  it('a member stopped cleanly leaves the endpoints at once and comes back when restarted', async () => {
    const pid = h.cluster.pid('s3');
    expect(pid).not.toBeNull();
    process.kill(pid as number, 'SIGTERM');
    await h.cluster.waitForExit('s3', 10_000);
    // Before its Lease could expire (15 s after its last renewal, seen at the others' next pass):
    // the stopping member removed its endpoint, or at least its Lease (then the others' next pass,
    // within 10 s, drops it) when its bounded leave was cut short on a loaded machine.
    await waitUntil('s3 gone from the endpoints', async () => JSON.stringify(await published()) === JSON.stringify(expected(['s1', 's2'])), { timeoutMs: 12_000, intervalMs: 200 })
      .catch(async (error: Error) => { throw new Error(`${error.message}; published: ${JSON.stringify(await published())}; s3's log:\n${memberLog('s3')}`); });
    await h.cluster.restart('s3');
    await h.waitReady('s3');
    await waitUntil('s3 back in the endpoints', async () => JSON.stringify(await published()) === JSON.stringify(expected(['s1', 's2', 's3'])), { timeoutMs: 30_000, intervalMs: 200 });
  }, 60_000);

  it('a killed member leaves the endpoints once its Lease has expired', async () => {
    await h.cluster.killAndWait('s3');
    // Lease 15 s, seen by the others at their 10 s passes: gone within about 25 s.
    await waitUntil('killed s3 gone from the endpoints', async () => JSON.stringify(await published()) === JSON.stringify(expected(['s1', 's2'])), { timeoutMs: 40_000, intervalMs: 500 });
  }, 60_000);
});
