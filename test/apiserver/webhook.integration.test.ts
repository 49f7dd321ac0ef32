/**
 * Dynamic admission against real HTTPS webhook servers started here (their own CA, a serving
 * certificate for 127.0.0.1, trusted through caBundle): deny, mutate, time out with Fail and with
 * Ignore, unreachable, bad response, warnings, namespace/object selectors, DELETE, and dry-run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';
import { requireComponent } from '../support/components.js';
import { closedPort, configureWebhooks, reviewResponse, startWebhookServer, type Review, type WebhookServer } from './webhook-server.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

let h: ApiHarness;
let hooks: WebhookServer;
let base: string;
let caBundle: string;
let calls: Review[] = [];
const json = { 'Content-Type': 'application/json' };

/** What each path answers; `/slow` never answers (the API server's timeout must end the call). */
function answer(path: string, review: Review): unknown | null {
  const respond = (response: Record<string, unknown>): unknown => reviewResponse(review, response);
  switch (path) {
    case '/deny': return respond({ allowed: false, status: { code: 403, message: 'denied by the test webhook' }, warnings: ['the deny webhook looked at this'] });
    case '/allow': return respond({ allowed: true, warnings: ['configmaps are checked'] });
    case '/mutate': return respond({
      allowed: true, patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify([{ op: 'add', path: '/data', value: { injected: 'by-webhook' } }])).toString('base64'),
    });
    case '/slow': return null;
    default: return 'not an AdmissionReview';
  }
}

function webhook(name: string, url: string, hook: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, clientConfig: { url, caBundle }, admissionReviewVersions: ['v1'], sideEffects: 'None', timeoutSeconds: 2,
    rules: [{ operations: ['CREATE', 'DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    objectSelector: { matchLabels: { hook } }, ...extra,
  };
}

const configure = (kind: 'Mutating' | 'Validating', name: string, webhooks: unknown[]): Promise<void> => configureWebhooks(h, kind, name, webhooks);

const configMap = (name: string, hook: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { hook } }, data: { a: 'b' } });

async function createConfigMap(name: string, hook: string, namespace = 'default', query = ''): Promise<{ status: number; body: string; warning: string | string[] | undefined }> {
  const reply = await h.request('POST', `/api/v1/namespaces/${namespace}/configmaps${query}`, { headers: json, body: configMap(name, hook) });
  return { status: reply.status, body: reply.body, warning: reply.headers['warning'] };
}

/** Webhook configurations reach admission through a watch: the first effect may take a moment. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  await waitUntil(what, probe, { timeoutMs: 10_000, intervalMs: 100 });
}

describe.runIf(runs)('admission webhooks', () => {
  beforeAll(async () => {
    hooks = await startWebhookServer(answer);
    ({ base, caBundle, calls } = hooks);
    h = await startApiHarness({ members: 1 });
    const unreachable = `https://127.0.0.1:${await closedPort()}/`;
    await configure('Validating', 'test-validating', [
      webhook('deny.kubus.test', `${base}/deny`, 'deny'),
      webhook('allow.kubus.test', `${base}/allow`, 'allow'),
      webhook('slow-fail.kubus.test', `${base}/slow`, 'slow-fail', { timeoutSeconds: 1, failurePolicy: 'Fail' }),
      webhook('slow-ignore.kubus.test', `${base}/slow`, 'slow-ignore', { timeoutSeconds: 1, failurePolicy: 'Ignore' }),
      webhook('unreachable.kubus.test', unreachable, 'unreachable'),
      webhook('bad.kubus.test', `${base}/bad`, 'bad'),
      webhook('effects.kubus.test', `${base}/allow`, 'effects', { sideEffects: 'Some' }),
      webhook('strict-ns.kubus.test', `${base}/deny`, 'strict-ns', { namespaceSelector: { matchLabels: { admission: 'strict' } } }),
    ]);
    await configure('Mutating', 'test-mutating', [webhook('mutate.kubus.test', `${base}/mutate`, 'mutate')]);
    await until('the webhooks to be in force', async () => (await createConfigMap('probe', 'deny', 'default', '?dryRun=All')).status === 403);
  }, 60_000);

  afterAll(async () => {
    hooks?.close();
    await h?.stop();
  });

  it('a denying webhook refuses the request with its message and warnings', async () => {
    const reply = await createConfigMap('denied', 'deny');
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).message).toBe('admission webhook "deny.kubus.test" denied the request: denied by the test webhook');
    expect(reply.warning).toEqual('299 - "the deny webhook looked at this"');
  });

  it('warnings of an allowing webhook reach the client as Warning headers', async () => {
    const reply = await createConfigMap('warned', 'allow');
    expect(reply.status).toBe(201);
    expect(reply.warning).toEqual('299 - "configmaps are checked"');
    const kubectl = await h.kubectl(['delete', 'configmap', 'warned']);
    expect(kubectl.code).toBe(0);
    expect(kubectl.stderr).toContain('Warning: configmaps are checked');
  });

  it('a mutating webhook\'s JSON patch is applied and stored', async () => {
    await until('the mutating webhook to be in force', async () => {
      const reply = await createConfigMap('mutation-probe', 'mutate', 'default', '?dryRun=All');
      return JSON.parse(reply.body).data?.injected === 'by-webhook';
    });
    expect((await createConfigMap('mutated', 'mutate')).status).toBe(201);
    const stored = JSON.parse((await h.request('GET', '/api/v1/namespaces/default/configmaps/mutated')).body);
    expect(stored.data).toEqual({ injected: 'by-webhook' });
  });

  it('a webhook that times out refuses with failurePolicy Fail and is skipped with Ignore', async () => {
    const failed = await createConfigMap('slow-fail', 'slow-fail');
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body).message).toContain('failed calling webhook "slow-fail.kubus.test"');
    expect((await createConfigMap('slow-ignore', 'slow-ignore')).status).toBe(201);
  });

  it('an unreachable webhook and a bad answer refuse the request (failurePolicy defaults to Fail)', async () => {
    const unreachable = await createConfigMap('unreachable', 'unreachable');
    expect(unreachable.status).toBe(500);
    expect(JSON.parse(unreachable.body).message).toContain('failed calling webhook "unreachable.kubus.test"');
    const bad = await createConfigMap('bad', 'bad');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.body).message).toContain('failed calling webhook "bad.kubus.test": the answer is not JSON');
  });

  it('a namespaceSelector skips namespaces without the label, an objectSelector objects without theirs', async () => {
    const ns = (name: string, labels: Record<string, string>): string => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    expect((await h.request('POST', '/api/v1/namespaces', { headers: json, body: ns('relaxed', {}) })).status).toBe(201);
    expect((await h.request('POST', '/api/v1/namespaces', { headers: json, body: ns('strict', { admission: 'strict' }) })).status).toBe(201);
    expect((await createConfigMap('ok', 'strict-ns', 'relaxed')).status).toBe(201);
    expect((await createConfigMap('refused', 'strict-ns', 'strict')).status).toBe(403);
    expect((await createConfigMap('unlabelled', 'none')).status).toBe(201);
  });

  it('DELETE goes through validating webhooks', async () => {
    expect((await createConfigMap('keep-me', 'allow')).status).toBe(201);
    const relabel = await h.request('PATCH', '/api/v1/namespaces/default/configmaps/keep-me', {
      headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ metadata: { labels: { hook: 'deny' } } }),
    });
    expect(relabel.status).toBe(200);
    const removed = await h.request('DELETE', '/api/v1/namespaces/default/configmaps/keep-me');
    expect(removed.status).toBe(403);
    expect(calls.some((c) => c.request.operation === 'DELETE' && c.request.object === null)).toBe(true);
  });

  it('dry-run runs the webhooks and persists nothing; webhooks with side effects refuse dry-run', async () => {
    const before = calls.length;
    const dry = await createConfigMap('dry', 'mutate', 'default', '?dryRun=All');
    expect(dry.status).toBe(201);
    expect(JSON.parse(dry.body).data).toEqual({ injected: 'by-webhook' });
    expect(calls.slice(before).some((c) => c.request.dryRun && c.request.object?.metadata.name === 'dry')).toBe(true);
    expect((await h.request('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
    const effects = await createConfigMap('effects', 'effects', 'default', '?dryRun=All');
    expect(effects.status).toBe(400);
    expect(JSON.parse(effects.body).message).toBe('admission webhook "effects.kubus.test" does not support dry run');
  });
});
