/**
 * The API over NATS: the same pipeline as HTTPS (authentication included), reached through the
 * `kubus.<cluster>.api` queue group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApiOverNats, serveApiOverNats } from '../../actors/apiserver/nats-front.js';
import { requireComponent } from '../support/components.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('API over NATS', () => {
  let h: ApiHarness;
  let stop: () => void = () => undefined;

  beforeAll(async () => {
    h = await startApiHarness();
    const server = serveApiOverNats({ bus: h.cluster.bus(), cluster: h.cluster.cluster, apiUrl: h.url, caCertPem: h.caCertPem });
    stop = () => server.stop();
  });

  afterAll(async () => {
    stop();
    await h?.stop();
  });

  it('answers like HTTPS: lists with a token, 401 without, creates with a body', async () => {
    const bus = h.cluster.bus();
    const auth = { Authorization: `Bearer ${h.token}` };
    const list = await callApiOverNats(bus, h.cluster.cluster, { method: 'GET', path: '/api/v1/namespaces', headers: auth }, 10_000);
    expect(list.status).toBe(200);
    expect(JSON.parse(Buffer.from(list.body).toString()).items.map((ns: { metadata: { name: string } }) => ns.metadata.name)).toContain('default');
    const anonymous = await callApiOverNats(bus, h.cluster.cluster, { method: 'GET', path: '/api/v1/namespaces', headers: {} }, 10_000);
    expect(anonymous.status).toBe(401);
    const body = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-nats' }, data: { a: '1' } }));
    const created = await callApiOverNats(bus, h.cluster.cluster, { method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: { ...auth, 'Content-Type': 'application/json' }, body }, 10_000);
    expect(created.status).toBe(201);
    const fetched = await h.request('GET', '/api/v1/namespaces/default/configmaps/over-nats');
    expect(JSON.parse(fetched.body).data).toEqual({ a: '1' });
    const watch = await callApiOverNats(bus, h.cluster.cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps?watch=1', headers: auth }, 10_000);
    expect(watch.status).toBe(400);
  });
});
