/**
 * The API over NATS: the same pipeline as HTTPS (authentication and authorization included),
 * reached through the `kubus.<cluster>.api` queue group that every member serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApiOverNats } from '../../actors/apiserver/nats-front.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('API over NATS', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    // Every member serves the queue group itself, as `kubus up` starts them.
    h = await startApiHarness({ users: [{ token: 'viewer-token', name: 'viewer' }] });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('authorizes like HTTPS: a user without a binding gets 403, with one it is served', async () => {
    const bus = h.cluster.bus();
    const viewer = { Authorization: 'Bearer viewer-token' };
    const refused = await callApiOverNats(bus, h.cluster.cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps', headers: viewer }, 10_000);
    expect(refused.status).toBe(403);
    expect(JSON.parse(Buffer.from(refused.body).toString()).message).toContain('User "viewer" cannot list resource "configmaps"');
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewer-view', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'viewer' }],
    };
    expect((await h.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(binding) })).status).toBe(201);
    // Every member's authorizer learns the binding through its watch; the queue group may pick any.
    await waitUntil('the binding on every member', async () => {
      const replies = await Promise.all([1, 2, 3, 4, 5, 6].map(() => callApiOverNats(bus, h.cluster.cluster, { method: 'GET', path: '/api/v1/namespaces/default/configmaps', headers: viewer }, 10_000)));
      return replies.every((reply) => reply.status === 200);
    }, { timeoutMs: 10_000 });
    const write = await callApiOverNats(bus, h.cluster.cluster, {
      method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: { ...viewer, 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ metadata: { name: 'by-viewer' } })),
    }, 10_000);
    expect(write.status).toBe(403);
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
