/**
 * The attacks of issue 9 §2 on the API and the Raft transport, against a real member (nats-server
 * in operator mode, a `kubus server` process serving HTTPS and NATS). Each attack is run as the
 * review ran it; each assertion is what must hold now:
 * - a forged snapshot chunk (`chunk: null`) and a malformed Raft batch from a member's NATS user
 *   are dropped: the chunk is answered `ok: false` and the member keeps serving;
 * - deep YAML and deep JSON bodies (2,000 levels) get 400, on a create, a self access review and a
 *   server-side apply, and the member keeps serving;
 * - 1,050 unauthenticated and 1,050 forbidden watches release their slots: the admin still watches;
 * - a kubus token record with `system:masters`, or a bootstrap token with unprefixed extra groups,
 *   authenticates nobody; a namespace editor of kube-system cannot write a token record;
 * - 60 connections with stalled bodies from one user leave another user of its level served;
 * - ServiceAccount tokens for another audience or before `nbf` get 401;
 * - Secret stringData is stored merged into data;
 * - an API request over NATS with the path `//127.0.0.1:<port>/x` is refused and nothing connects;
 * - a /scale write goes through admission (a validating webhook refuses it);
 * - a webhook's network error reaches the requester without the address.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, decode, subjects } from '../../bus/index.js';
import { issueServiceAccountToken } from '../../actors/apiserver/authn/index.js';
import { sha256Hex } from '../../actors/apiserver/authn/token-secrets.js';
import { callApiOverNats } from '../../actors/apiserver/nats-front.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { closedPort, configureWebhooks, reviewResponse, startWebhookServer, type WebhookServer } from '../apiserver/webhook-server.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const cluster = 'kubus';
const json = { 'Content-Type': 'application/json' };
const levels = 2_000;
const deepJson = '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepYaml = '{a: '.repeat(levels) + '1' + '}'.repeat(levels);
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe.runIf(runs)('security of the API and the Raft transport', () => {
  let h: ApiHarness;
  let hooks: WebhookServer;
  const agents: Agent[] = [];

  beforeAll(async () => {
    hooks = await startWebhookServer((path, review) => (path === '/deny-scale'
      ? reviewResponse(review, { allowed: false, status: { code: 403, message: 'scale refused by the test webhook' } })
      : reviewResponse(review, { allowed: true })));
    h = await startApiHarness({
      members: 1,
      // 20 seats: the global-default level (staller's and polite's) gets 2 (levelShares in http/fairness.ts).
      serverArgs: ['--api-max-in-flight', '20'],
      users: [
        { token: 'nobody-token', name: 'nobody' },
        { token: 'editor-token', name: 'ks-editor' },
        { token: 'staller-token', name: 'staller' },
        { token: 'polite-token', name: 'polite' },
      ],
    });
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const created = async (path: string, body: unknown): Promise<void> => {
      const reply = await h.request('POST', path, { headers: json, body: JSON.stringify(body) });
      expect(reply.status, reply.body).toBe(201);
    };
    // ks-editor: the built-in `edit` role in kube-system only.
    await created(`${rbac}/namespaces/kube-system/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ks-editor', namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'User', name: 'ks-editor', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    // staller and polite may read and write configmaps in default.
    await created(`${rbac}/clusterroles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'sec-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] }],
    });
    await created(`${rbac}/clusterrolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'sec-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sec-configmaps' },
      subjects: ['staller', 'polite'].map((name) => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' })),
    });
    await created('/api/v1/namespaces/default/configmaps', { metadata: { name: 'c' }, data: { a: '1' } });
    // Bindings reach the member's authorizer through its watch.
    await waitUntil('the test bindings to be in force', async () =>
      (await h.request('GET', '/api/v1/namespaces/default/configmaps/c', { token: 'polite-token' })).status === 200
      && (await h.request('GET', '/api/v1/namespaces/kube-system/secrets', { token: 'editor-token' })).status === 200, { timeoutMs: 15_000, intervalMs: 100 });
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) agent.destroy();
    hooks?.close();
    await h?.stop();
  });

  /** The member still runs and answers. */
  const memberServes = async (): Promise<void> => {
    expect(h.cluster.isRunning('s1')).toBe(true);
    expect((await h.request('GET', '/api/v1/namespaces/default/configmaps/c')).status).toBe(200);
  };

  it('a forged snapshot chunk and a malformed raft batch from a member user are dropped; the member keeps serving', async () => {
    const credentials = h.cluster.natsCredentials();
    const attacker = await h.cluster.connectAs(await credentials.mintMember(cluster, 's9', Date.now()));
    const names = subjects(cluster);
    const chunk = {
      from: 's9', to: 's1', term: 1, transferId: 'x', meta: { index: 1, term: 1, conf: { voters: ['s9'], learners: [] } },
      chunkIndex: 0, chunkCount: 1, chunk: null,
    };
    const reply = decode<{ ok: boolean }>(await attacker.request(names.raftSnapshot('s9', 's1'), encode(chunk), { timeoutMs: 5_000 }));
    expect(reply).toEqual({ ok: false });
    const huge = { ...chunk, chunk: new Uint8Array(1), chunkCount: 2 ** 32 };
    expect(decode(await attacker.request(names.raftSnapshot('s9', 's1'), encode(huge), { timeoutMs: 5_000 }))).toEqual({ ok: false });
    attacker.publish(names.raft('s9', 's1'), encode({ from: 's9', messages: [{ type: 'append', from: 's9', to: 's1', term: 1e9, prevIndex: -1, entries: null }] }));
    attacker.publish(names.raft('s9', 's1'), encode({ from: 's9', messages: null }));
    await attacker.flush();
    await memberServes();
    // Each drop is logged (the 1st, 2nd, 4th...), naming the field.
    await waitUntil('the drops in the member log', () => readFileSync(h.cluster.logPath('s1'), 'utf8').includes('field chunk is invalid'), { timeoutMs: 5_000 });
    // Writes still commit: the forged high-term append did not depose the leader.
    expect((await h.request('POST', '/api/v1/namespaces/default/configmaps', { headers: json, body: JSON.stringify({ metadata: { name: 'after-forgery' } }) })).status).toBe(201);
  });

  it('deep YAML and deep JSON bodies get 400 with a Status, and the member survives', async () => {
    const deepConfigMap = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":${deepJson}}`;
    const create = await h.request('POST', '/api/v1/namespaces/default/configmaps', { headers: json, body: deepConfigMap });
    expect(create.status).toBe(400);
    expect(JSON.parse(create.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: 'the request body nests deeper than 100 levels' });
    // Any authenticated user may send a self access review: the body is parsed before anything is authorized.
    const review = await h.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      token: 'nobody-token', headers: { 'Content-Type': 'application/yaml' },
      body: `apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec: ${deepYaml}\n`,
    });
    expect(review.status).toBe(400);
    expect(JSON.parse(review.body)).toMatchObject({ kind: 'Status', code: 400 });
    const apply = await h.request('PATCH', '/api/v1/namespaces/default/configmaps/applied?fieldManager=sec', {
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: ${deepYaml}\n`,
    });
    expect(apply.status).toBe(400);
    expect(JSON.parse(apply.body)).toMatchObject({ kind: 'Status', code: 400 });
    await memberServes();
  });

  it('1,050 unauthenticated and 1,050 forbidden watches release their slots: the admin still watches', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 32, ca: h.caCertPem });
    agents.push(agent);
    const watch = (token: string | null): Promise<number> => new Promise((resolve, reject) => {
      const req = httpsRequest(new URL('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', h.url), {
        agent, headers: token === null ? {} : { Authorization: `Bearer ${token}` },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    const refused = async (token: string | null, expected: number): Promise<void> => {
      const codes = new Map<number, number>();
      for (let batch = 0; batch < 1_050; batch += 50) {
        for (const code of await Promise.all(Array.from({ length: 50 }, () => watch(token)))) codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      expect([...codes]).toEqual([[expected, 1_050]]);
    };
    await refused(null, 401);
    await refused('nobody-token', 403);
    expect(await watch(h.token)).toBe(200);
  });

  it('stored token records cannot carry system:masters; a kube-system editor cannot write one', async () => {
    const token = `kubus-masterkey0.${'x'.repeat(43)}`;
    const record = {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kubus-token-masterkey0', namespace: 'kube-system' }, type: 'kubus.io/token',
      data: { 'token-id': b64('masterkey0'), 'token-sha256': b64(sha256Hex(token)), user: b64('mallory'), uid: b64('mallory'), groups: b64('system:masters') },
    };
    const byEditor = await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: 'editor-token', body: record });
    expect(byEditor.status).toBe(403);
    expect(byEditor.json['message']).toContain('requires permission to impersonate');
    // Even a record the admin wrote authenticates nobody with a reserved group.
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: record })).status).toBe(201);
    const asMallory = await callAs(h, 'GET', '/api/v1/namespaces/default/secrets', { token });
    expect(asMallory.status).toBe(401);
    expect(asMallory.json['message']).toContain('reserved');

    const bootstrapToken = 'evilid.0123456789abcdef';
    const bootstrap = {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-evilid', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token',
      data: { 'token-id': b64('evilid'), 'token-secret': b64('0123456789abcdef'), 'usage-bootstrap-authentication': b64('true'), 'auth-extra-groups': b64('system:masters') },
    };
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: 'editor-token', body: bootstrap })).status).toBe(403);
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: bootstrap })).status).toBe(201);
    const asBootstrap = await callAs(h, 'GET', '/api/v1/namespaces/default/secrets', { token: bootstrapToken });
    expect(asBootstrap.status).toBe(401);
    expect(asBootstrap.json['message']).toContain('system:bootstrappers:');
  });

  it('60 stalled bodies from one user leave another user of its level served', async () => {
    const stalled = Array.from({ length: 60 }, () => {
      const req = httpsRequest(new URL('/api/v1/namespaces/default/configmaps', h.url), {
        method: 'POST', ca: h.caCertPem, agent: false, headers: { ...json, Authorization: 'Bearer staller-token', 'Content-Length': '1000' },
      });
      req.on('error', () => undefined);
      req.write('{');
      return req;
    });
    try {
      // Let the stalled requests reach the member and authenticate.
      await waitUntil('the stalled requests to be connected', () => stalled.every((req) => req.socket !== null && !req.socket.connecting), { timeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const reply = await h.request('GET', '/api/v1/namespaces/default/configmaps/c', { token: 'polite-token' });
        expect(reply.status).toBe(200);
        // Before: the stalled bodies held the level's seats and this waited the whole 5 s queue bound, then 429.
        expect(performance.now() - started).toBeLessThan(2_000);
      }
    } finally {
      for (const req of stalled) req.destroy();
    }
  });

  it('ServiceAccount tokens for another audience, or before nbf, get 401', async () => {
    expect((await callAs(h, 'POST', '/api/v1/namespaces/default/serviceaccounts', { token: h.token, body: { metadata: { name: 'robot' } } })).status).toBe(201);
    const account = (await callAs(h, 'GET', '/api/v1/namespaces/default/serviceaccounts/robot', { token: h.token })).json;
    const privateKeyPem = readFileSync(join(h.dir, 'credentials', 'pki', 'sa.key'), 'utf8');
    const issue = (options: { audiences?: string[]; now?: Date }) => issueServiceAccountToken({
      privateKeyPem, serviceAccount: account as never, now: options.now ?? new Date(), expirationSeconds: 3_600, ...(options.audiences !== undefined ? { audiences: options.audiences } : {}),
    }).token;
    const whoami = (token: string) => callAs(h, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect((await whoami(issue({}))).status).toBe(201);
    const otherAudience = await whoami(issue({ audiences: ['https://vault.example'] }));
    expect(otherAudience.status).toBe(401);
    expect(otherAudience.json['message']).toContain('not meant for this API');
    const early = await whoami(issue({ now: new Date(Date.now() + 10 * 60_000) }));
    expect(early.status).toBe(401);
    expect(early.json['message']).toContain('not valid before');
    // A TokenRequest for another audience gives a token the API refuses too.
    const requested = await callAs(h, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', {
      token: h.token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://vault.example'] } },
    });
    expect(requested.status).toBe(201);
    expect((await whoami(requested.json['status'].token as string)).status).toBe(401);
  });

  it('stringData is stored merged into data (base64), never as sent', async () => {
    const created = await callAs(h, 'POST', '/api/v1/namespaces/default/secrets', {
      token: h.token, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sd' }, data: { keep: b64('k') }, stringData: { password: 'hunter2' } },
    });
    expect(created.status).toBe(201);
    const stored = (await callAs(h, 'GET', '/api/v1/namespaces/default/secrets/sd', { token: h.token })).json;
    expect(stored['data']).toEqual({ keep: b64('k'), password: b64('hunter2') });
    expect(stored['stringData']).toBeUndefined();
  });

  it('an API request over NATS with the path //host:port/x is refused and connects nowhere', async () => {
    let connections = 0;
    const listener: TcpServer = createTcpServer((socket) => { connections++; socket.destroy(); });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      const component = await h.cluster.connectAs(await h.cluster.natsCredentials().mintComponent(cluster, 'security-probe', { ttlMs: null, nowMs: Date.now() }));
      for (const path of [`//127.0.0.1:${port}/x`, `/\\127.0.0.1:${port}/x`]) {
        const reply = await callApiOverNats(component, cluster, { method: 'GET', path, headers: { Authorization: `Bearer ${h.token}` } }, 10_000);
        expect(reply.status).toBe(400);
      }
      expect(connections).toBe(0);
    } finally {
      listener.close();
    }
  });

  it('a /scale write goes through admission: a validating webhook refuses it', async () => {
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scaled' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'scaled' } }, template: { metadata: { labels: { app: 'scaled' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    expect((await callAs(h, 'POST', '/apis/apps/v1/namespaces/default/deployments', { token: h.token, body: deployment })).status).toBe(201);
    await configureWebhooks(h, 'Validating', 'deny-scale', [{
      name: 'deny-scale.kubus.test', clientConfig: { url: `${hooks.base}/deny-scale`, caBundle: hooks.caBundle }, admissionReviewVersions: ['v1'], sideEffects: 'None',
      timeoutSeconds: 5, rules: [{ operations: ['UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments/scale'] }],
    }]);
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled', namespace: 'default' }, spec: { replicas: 5 } };
    const path = '/apis/apps/v1/namespaces/default/deployments/scaled/scale';
    // The member's admission sees the new configuration once it has applied it: wait with dry runs
    // (admitted, never stored), so no write slips through before the webhook is in force.
    await waitUntil('the scale webhook to be in force', async () => (await callAs(h, 'PUT', `${path}?dryRun=All`, { token: h.token, body: scale })).status === 403, { timeoutMs: 10_000, intervalMs: 200 });
    const refused = await callAs(h, 'PUT', path, { token: h.token, body: scale });
    expect(refused.status).toBe(403);
    expect(refused.json['message']).toBe('admission webhook "deny-scale.kubus.test" denied the request: scale refused by the test webhook');
    const review = hooks.calls.find((call) => call.request.subResource === 'scale');
    expect(review?.request.object?.kind).toBe('Scale');
    const stored = (await callAs(h, 'GET', '/apis/apps/v1/namespaces/default/deployments/scaled', { token: h.token })).json;
    expect(stored['spec'].replicas).toBe(1);
  });

  it('a webhook\'s network error reaches the requester without its address', async () => {
    const port = await closedPort();
    await configureWebhooks(h, 'Validating', 'unreachable', [{
      name: 'unreachable.kubus.test', clientConfig: { url: `https://127.0.0.1:${port}/`, caBundle: hooks.caBundle }, admissionReviewVersions: ['v1'],
      sideEffects: 'None', timeoutSeconds: 2, objectSelector: { matchLabels: { hook: 'unreachable' } },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    }]);
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hooked', labels: { hook: 'unreachable' } } };
    const failed = await waitUntil('the unreachable webhook to be in force', async () => {
      const reply = await callAs(h, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { token: 'staller-token', body });
      return reply.status === 500 ? reply : null;
    }, { timeoutMs: 10_000, intervalMs: 200 });
    expect(failed.json['message']).toBe('Internal error occurred: failed calling webhook "unreachable.kubus.test": connection refused');
    expect(failed.json['message']).not.toContain(String(port));
  });
});
