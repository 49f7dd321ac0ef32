/**
 * Kubernetes watches over NATS on real parts: a front started here relays watches of the real
 * HTTPS API (same pipeline, authentication included) to a client's inbox. It proves that the
 * watch sees ADDED/MODIFIED/DELETED of configmaps written over HTTPS, in order, for longer than
 * several leases while the client renews; that resourceVersion=N replays what followed N; that a
 * 401 comes back as a status with no stream; that close() ends the stream on the front; and that
 * a client that stops renewing loses its stream after the lease.
 *
 * The front runs under a cluster name of its own (`natswatch`): the harness's members may serve
 * the API over NATS too, and this test counts the streams of the one front it started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApiOverNats, serveApiOverNats, type ApiNatsServer } from '../../actors/apiserver/nats-front.js';
import type { ApiWatchEndReason, ApiWatchEvent } from '../../actors/apiserver/nats-watch-protocol.js';
import { watchApiOverNats, type ApiWatchOptions } from '../../actors/apiserver/nats-watch-client.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const cluster = 'natswatch';
const leaseMs = 1_000;

interface ConfigMap {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

describe.runIf(runs)('API watches over NATS', () => {
  let h: ApiHarness;
  let front: ApiNatsServer | null = null;

  beforeAll(async () => {
    h = await startApiHarness();
    front = serveApiOverNats({ bus: h.cluster.bus(), cluster, apiUrl: h.url, caCertPem: h.caCertPem, self: 'test-front', watchLeaseMs: leaseMs });
  });

  afterAll(async () => {
    front?.stop();
    await h?.stop();
  });

  const streamsOnFront = (): number => front?.activeStreams() ?? -1;

  function recorder() {
    const events: ApiWatchEvent[] = [];
    const ends: ApiWatchEndReason[] = [];
    return { events, ends, handlers: { onEvent: (event: ApiWatchEvent) => events.push(event), onEnd: (end: { reason: ApiWatchEndReason }) => ends.push(end.reason) } };
  }

  function watch(path: string, handlers: ReturnType<typeof recorder>['handlers'], options: ApiWatchOptions & { token?: string | null } = {}) {
    const token = options.token === undefined ? h.token : options.token;
    return watchApiOverNats(h.cluster.bus(), cluster, { method: 'GET', path, headers: token === null ? {} : { Authorization: `Bearer ${token}` } }, handlers, {
      renewEveryMs: 200, timeoutMs: 10_000, ...options,
    });
  }

  const watchPath = (label: string, query = '') => `/api/v1/namespaces/default/configmaps?watch=1&labelSelector=suite%3D${label}${query}`;

  async function write(method: 'POST' | 'PUT' | 'DELETE', name: string, label: string, data: Record<string, string> = {}): Promise<ConfigMap> {
    const path = method === 'POST' ? '/api/v1/namespaces/default/configmaps' : `/api/v1/namespaces/default/configmaps/${name}`;
    const body = method === 'DELETE' ? undefined : JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { suite: label } }, data });
    const reply = await h.request(method, path, { headers: { 'Content-Type': 'application/json' }, ...(body !== undefined ? { body } : {}) });
    expect(reply.status, reply.body).toBeLessThan(300);
    return JSON.parse(reply.body) as ConfigMap;
  }

  const summary = (events: readonly ApiWatchEvent[]) => events.map((e) => `${e.type} ${(e.object as ConfigMap).metadata.name} ${(e.object as ConfigMap).data?.['n'] ?? ''}`.trim());

  it('sees ADDED, MODIFIED and DELETED of writes over HTTPS, in order, over several leases', async () => {
    const seen = recorder();
    const stream = await watch(watchPath('nw-order'), seen.handlers);
    expect(stream.status).toBe(200);
    expect(streamsOnFront()).toBe(1);
    const started = Date.now();
    await write('POST', 'w1', 'nw-order', { n: '0' });
    // Keep writing until more than three leases have passed: only renewals keep the stream alive that long.
    let updates = 0;
    while (Date.now() - started < 3 * leaseMs || updates < 2) await write('PUT', 'w1', 'nw-order', { n: String(++updates) });
    await write('DELETE', 'w1', 'nw-order');
    await waitUntil('the DELETED event', () => seen.events.some((e) => e.type === 'DELETED'), { timeoutMs: 10_000 });
    const expected = ['ADDED w1 0', ...Array.from({ length: updates }, (_, i) => `MODIFIED w1 ${i + 1}`), `DELETED w1 ${updates}`];
    expect(summary(seen.events)).toEqual(expected);
    const versions = seen.events.map((e) => Number((e.object as ConfigMap).metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(seen.ends).toEqual([]);
    expect(streamsOnFront()).toBe(1);
    stream.close();
    await waitUntil('the stream gone from the front', () => streamsOnFront() === 0, { timeoutMs: 10_000 });
  });

  it('replays what followed resourceVersion=N; refuses a watch without a token with 401 and no stream', async () => {
    const created = await write('POST', 'w2', 'nw-replay', { n: '0' });
    await write('PUT', 'w2', 'nw-replay', { n: '1' });
    await write('DELETE', 'w2', 'nw-replay');
    const seen = recorder();
    const stream = await watch(watchPath('nw-replay', `&resourceVersion=${created.metadata.resourceVersion}`), seen.handlers);
    expect(stream.status).toBe(200);
    await waitUntil('the replayed events', () => seen.events.length >= 2, { timeoutMs: 10_000 });
    expect(summary(seen.events)).toEqual(['MODIFIED w2 1', 'DELETED w2 1']);
    stream.close();
    await waitUntil('the stream gone from the front', () => streamsOnFront() === 0, { timeoutMs: 10_000 });

    const anonymous = recorder();
    const refused = await watch(watchPath('nw-replay'), anonymous.handlers, { token: null });
    expect(refused.status).toBe(401);
    expect(JSON.parse(Buffer.from(refused.body ?? new Uint8Array()).toString())).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    expect(streamsOnFront()).toBe(0);
    // The one-shot call still refuses watches, pointing at the streaming client.
    const oneShot = await callApiOverNats(h.cluster.bus(), cluster, { method: 'GET', path: watchPath('nw-replay'), headers: { Authorization: `Bearer ${h.token}` } }, 10_000);
    expect(oneShot.status).toBe(400);
    expect(Buffer.from(oneShot.body).toString()).toContain('watchApiOverNats');
  });

  it('close() ends the stream on the front at once', async () => {
    const seen = recorder();
    const stream = await watch(watchPath('nw-close'), seen.handlers);
    expect(streamsOnFront()).toBe(1);
    stream.close();
    await waitUntil('the stream gone from the front', () => streamsOnFront() === 0, { timeoutMs: leaseMs / 2 });
    expect(seen.ends).toEqual([]);
  });

  it('ends the stream of a client that stops renewing after the lease, and tells it', async () => {
    const seen = recorder();
    const stream = await watch(watchPath('nw-lease'), seen.handlers, { renewEveryMs: 60_000 });
    expect(stream.status).toBe(200);
    await waitUntil('the lease to expire', () => seen.ends.length > 0, { timeoutMs: 10 * leaseMs });
    expect(seen.ends).toEqual(['leaseExpired']);
    expect(streamsOnFront()).toBe(0);
    stream.close();
  });

  it('ends with reason ended when the HTTPS watch reaches timeoutSeconds', async () => {
    const seen = recorder();
    const stream = await watch(watchPath('nw-timeout', '&timeoutSeconds=1'), seen.handlers);
    expect(stream.status).toBe(200);
    await waitUntil('the watch to time out', () => seen.ends.length > 0, { timeoutMs: 10_000 });
    expect(seen.ends).toEqual(['ended']);
    await waitUntil('the stream gone from the front', () => streamsOnFront() === 0, { timeoutMs: 10_000 });
  });
});
