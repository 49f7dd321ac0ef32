/**
 * The writes that do not go through create/update/delete still pass admission, end to end on a
 * one-member cluster with a real HTTPS validating webhook (test/apiserver/webhook-server.ts):
 * an eviction is admitted as a CREATE of pods/eviction carrying the Eviction (a denial keeps the
 * pod), a binding as a CREATE of pods/binding (a denial leaves the pod unbound), and
 * deletecollection admits each object as its own DELETE (a denied object stays, and the request
 * stops there). Webhooks select by namespace so that only the namespaces made for them are guarded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';
import { configureWebhooks, reviewResponse, startWebhookServer, type WebhookServer } from './webhook-server.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const json = { 'Content-Type': 'application/json' };

let h: ApiHarness;
let hooks: WebhookServer;

function validating(name: string, operation: string, resources: string[], guard: string): Record<string, unknown> {
  return {
    name, clientConfig: { url: `${hooks.base}/deny`, caBundle: hooks.caBundle }, admissionReviewVersions: ['v1'], sideEffects: 'None', timeoutSeconds: 2,
    rules: [{ operations: [operation], apiGroups: [''], apiVersions: ['v1'], resources }],
    namespaceSelector: { matchLabels: { guard } },
  };
}

async function create(path: string, object: Record<string, unknown>): Promise<void> {
  const reply = await h.request('POST', path, { headers: json, body: JSON.stringify(object) });
  expect(reply.status, reply.body).toBe(201);
}

const namespace = (name: string, guard: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { guard } } });
const pod = (name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
const configMap = (name: string, labels: Record<string, string> = {}): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: 'b' } });
const status = async (path: string): Promise<number> => (await h.request('GET', path)).status;
const evict = (ns: string, name: string, query = ''): Promise<{ status: number; body: string }> => h.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/eviction${query}`, {
  headers: json, body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } }),
});

describe.runIf(runs)('admission of subresources and deletecollection', () => {
  beforeAll(async () => {
    hooks = await startWebhookServer((path, review) => (path === '/deny'
      ? reviewResponse(review, { allowed: false, status: { code: 403, message: `no ${review.request.operation} of ${review.request.name} here` } })
      : 'not an AdmissionReview'));
    h = await startApiHarness({ members: 1 });
    await create('/api/v1/namespaces', namespace('evict-guarded', 'evictions'));
    await create('/api/v1/namespaces', namespace('bind-guarded', 'bindings'));
    await create('/api/v1/namespaces', namespace('delete-guarded', 'deletes'));
    await create('/api/v1/namespaces', namespace('open', 'none'));
    await configureWebhooks(h, 'Validating', 'subresource-guards', [
      validating('evictions.kubus.test', 'CREATE', ['pods/eviction'], 'evictions'),
      validating('bindings.kubus.test', 'CREATE', ['pods/binding'], 'bindings'),
      { ...validating('deletes.kubus.test', 'DELETE', ['configmaps'], 'deletes'), objectSelector: { matchLabels: { keep: 'true' } } },
    ]);
    // Webhook configurations reach admission through a watch: wait until the eviction guard holds.
    await create('/api/v1/namespaces/evict-guarded/pods', pod('probe'));
    await waitUntil('the webhooks to be in force', async () => (await evict('evict-guarded', 'probe', '?dryRun=All')).status === 403, { timeoutMs: 10_000, intervalMs: 100 });
  }, 60_000);

  afterAll(async () => {
    hooks?.close();
    await h?.stop();
  });

  it('a validating webhook on pods/eviction refuses the eviction and the pod stays', async () => {
    await create('/api/v1/namespaces/evict-guarded/pods', pod('kept'));
    const refused = await evict('evict-guarded', 'kept');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('admission webhook "evictions.kubus.test" denied the request: no CREATE of kept here');
    expect(await status('/api/v1/namespaces/evict-guarded/pods/kept')).toBe(200);
    const review = hooks.calls.findLast((c) => c.request.name === 'kept');
    expect(review?.request).toMatchObject({ operation: 'CREATE', subResource: 'eviction', object: { apiVersion: 'policy/v1', kind: 'Eviction' }, oldObject: { kind: 'Pod' } });
  });

  it('an eviction no webhook guards deletes the pod', async () => {
    await create('/api/v1/namespaces/open/pods', pod('evicted'));
    expect((await evict('open', 'evicted')).status).toBe(201);
    expect(await status('/api/v1/namespaces/open/pods/evicted')).toBe(404);
  });

  it('a validating webhook on pods/binding refuses the binding and the pod stays unbound', async () => {
    await create('/api/v1/namespaces/bind-guarded/pods', pod('unbound'));
    const refused = await h.request('POST', '/api/v1/namespaces/bind-guarded/pods/unbound/binding', {
      headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'n1' } }),
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('admission webhook "bindings.kubus.test" denied the request: no CREATE of unbound here');
    const stored = JSON.parse((await h.request('GET', '/api/v1/namespaces/bind-guarded/pods/unbound')).body) as { spec: { nodeName?: string } };
    expect(stored.spec.nodeName).toBeUndefined();
  });

  it('deletecollection admits each object: a denied one stays, and the request stops at it', async () => {
    const base = '/api/v1/namespaces/delete-guarded/configmaps';
    await create(base, configMap('a-first'));
    await create(base, configMap('b-guarded', { keep: 'true' }));
    await create(base, configMap('c-last'));
    const refused = await h.request('DELETE', base);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('admission webhook "deletes.kubus.test" denied the request: no DELETE of b-guarded here');
    expect(await status(`${base}/a-first`)).toBe(404);
    expect(await status(`${base}/b-guarded`)).toBe(200);
    expect(await status(`${base}/c-last`)).toBe(200);
    const review = hooks.calls.findLast((c) => c.request.name === 'b-guarded');
    expect(review?.request).toMatchObject({ operation: 'DELETE', object: null, oldObject: { metadata: { name: 'b-guarded' } } });
  });

  it('deletecollection honours dryRun and selectors', async () => {
    const base = '/api/v1/namespaces/open/configmaps';
    await create(base, configMap('x', { tier: 'temp' }));
    await create(base, configMap('y', { tier: 'temp' }));
    await create(base, configMap('z', { tier: 'kept' }));
    const dry = await h.request('DELETE', `${base}?labelSelector=tier%3Dtemp&dryRun=All`);
    expect(dry.status).toBe(200);
    expect((JSON.parse(dry.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name)).toEqual(['x', 'y']);
    expect(await status(`${base}/x`)).toBe(200);
    expect((await h.request('DELETE', `${base}?labelSelector=tier%3Dtemp`)).status).toBe(200);
    expect([await status(`${base}/x`), await status(`${base}/y`), await status(`${base}/z`)]).toEqual([404, 404, 200]);
  });
});
