/**
 * Node credentials through the API (issue 11 §1–2, server side), on a one-member cluster started
 * as `kubus up` starts it (with `--node-credentials-ttl 120`): a node joins with a bootstrap token (CSR → client certificate), then
 * `POST /api/v1/nodes/<name>/credentials` with that certificate gives it a NATS user and an API
 * token; the user connects to the bus, the token authenticates as the node. Another node's name
 * and an administrator are refused (403). The issued user is recorded in the node's identity
 * record, so deleting the Node revokes it on the bus within a second, and revoking the bootstrap
 * token (or deleting it) revokes every node it joined: their certificates, tokens and further
 * credentials requests are refused, saying to join again. A bootstrap token cannot take the name of a live
 * node (Node with a fresh Lease): its CSR is refused naming `kubectl delete node`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusClosedError, NatsBus, encode, subjects, type NatsUser } from '../../bus/index.js';
import { newBootstrapToken, nodeIdentityOf } from '../../actors/apiserver/authn/index.js';
import { callApiOverNats } from '../../actors/apiserver/nats-front.js';
import { waitUntil } from '../support/wait.js';
import { requireComponent } from '../support/components.js';
import { callAs, startApiHarness, type ApiHarness, type ClientCert, type JsonReply } from './harness.js';
import { csrObject, generateCsr } from './csr-fixtures.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const whoamiPath = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const whoamiBody = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
const credentialsPath = (node: string): string => `/api/v1/nodes/${node}/credentials`;

let h: ApiHarness;
const ttlSeconds = 120;

const call = (method: string, path: string, options: Parameters<typeof callAs>[3] = {}): Promise<JsonReply> => callAs(h, method, path, options);

async function newToken(): Promise<{ id: string; token: string }> {
  const created = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
  const reply = await call('POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: created.secret });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return { id: created.id, token: created.token };
}

let csrCount = 0;
async function join(node: string, bootstrapToken: string): Promise<ClientCert> {
  const { csrPem, keyPem } = await generateCsr(`CN=system:node:${node}, O=system:nodes`);
  csrCount += 1;
  const reply = await call('POST', csrPath, { token: bootstrapToken, body: csrObject(`node-csr-${node}-${csrCount}`, csrPem) });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return { certPem: Buffer.from(reply.json['status'].certificate as string, 'base64').toString('utf8'), keyPem };
}

/** The credentials' NATS user, as bus/ connects with it. */
function natsUser(json: Record<string, any>): NatsUser {
  const nats = json['nats'];
  return { name: nats.user, publicKey: '', jwt: nats.jwt, seed: nats.seed, inboxPrefix: nats.inboxPrefix, expiresAtMs: Date.parse(nats.expiresAt) };
}

async function connectNode(json: Record<string, any>): Promise<NatsBus> {
  return NatsBus.connect({ servers: json['nats'].servers, name: json['nats'].user, user: natsUser(json), connectTimeoutMs: 5_000, reconnect: false });
}

async function closedWithin(bus: NatsBus, timeoutMs: number): Promise<void> {
  const cluster = h.cluster.cluster;
  await waitUntil('the connection closed by the server', () => {
    try {
      bus.publish(subjects(cluster).api(), encode('still here?'));
      return false;
    } catch (error) {
      return error instanceof BusClosedError;
    }
  }, { timeoutMs, intervalMs: 20 });
}

beforeAll(async () => {
  if (!runs) return;
  // A short lifetime (the default is an hour), to see the flag reach the member.
  h = await startApiHarness({ members: 1, serverArgs: ['--node-credentials-ttl', String(ttlSeconds)] });
  await waitUntil('the bootstrapper may create CSRs', async () => {
    const probe = await newToken();
    return (await call('GET', csrPath, { token: probe.token })).status === 200;
  }, { timeoutMs: 20_000, intervalMs: 200 });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe.runIf(runs)('node credentials', () => {
  let token: { id: string; token: string };
  let n1: ClientCert;
  let issued: Record<string, any>;

  it('a node certificate gets its own credentials: 201 with a NATS user and an API token', async () => {
    token = await newToken();
    n1 = await join('n1', token.token);
    const reply = await call('POST', credentialsPath('n1'), { cert: n1, body: {} });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    issued = reply.json;
    expect(issued).toMatchObject({
      apiVersion: 'kubus.io/v1', kind: 'NodeCredentials',
      nats: { cluster: h.cluster.cluster, user: 'node-n1', inboxPrefix: '_INBOX.node-n1', servers: [h.cluster.natsUrl()] },
    });
    for (const expiresAt of [issued['nats'].expiresAt, issued['apiToken'].expiresAt]) {
      expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + (ttlSeconds - 20) * 1000);
      expect(Date.parse(expiresAt)).toBeLessThanOrEqual(Date.now() + ttlSeconds * 1000 + 1000);
    }
    const whoami = await call('POST', whoamiPath, { token: issued['apiToken'].token, body: whoamiBody });
    expect(whoami.status, JSON.stringify(whoami.json)).toBe(201);
    expect(whoami.json['status'].userInfo).toMatchObject({ username: 'system:node:n1', groups: expect.arrayContaining(['system:nodes']) });
    // On the bus, as the agent works: its user reaches the API, its token authenticates there too.
    const bus = await connectNode(issued);
    const overNats = await callApiOverNats(bus, h.cluster.cluster, {
      method: 'POST', path: whoamiPath, body: new TextEncoder().encode(JSON.stringify(whoamiBody)),
      headers: { Authorization: `Bearer ${issued['apiToken'].token as string}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    }, 10_000);
    expect(overNats.status).toBe(201);
    expect(JSON.parse(new TextDecoder().decode(overNats.body))['status'].userInfo.username).toBe('system:node:n1');
    await bus.close();
  });

  it('the identity record names the joining token and the issued user', async () => {
    const secret = await call('GET', '/api/v1/namespaces/kube-system/secrets/kubus-node-n1', { token: h.token });
    expect(secret.status).toBe(200);
    const identity = nodeIdentityOf(secret.json as never);
    expect(identity).toMatchObject({ node: 'n1', bootstrapTokenId: token.id, revokedAt: null });
    expect(identity?.natsUsers.map((u) => u.name)).toEqual(['node-n1']);
  });

  it("another node's credentials are refused to n1 (403), and to an administrator (403, saying why)", async () => {
    await join('n2', token.token);
    const other = await call('POST', credentialsPath('n2'), { cert: n1, body: {} });
    expect(other.status, JSON.stringify(other.json)).toBe(403);
    const admin = await call('POST', credentialsPath('n1'), { token: h.token, body: {} });
    expect(admin.status).toBe(403);
    expect(admin.json['message']).toMatch(/only the node itself \(system:node:n1.*hands out that node's identity.*administrators are refused too/);
  });

  it('a bootstrap token cannot take the name of a live node (403 naming kubectl delete node); the node renews its certificate', async () => {
    const node = await call('POST', '/api/v1/nodes', { token: h.token, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } });
    expect(node.status, JSON.stringify(node.json)).toBe(201);
    const lease = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      token: h.token,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') } },
    });
    expect(lease.status, JSON.stringify(lease.json)).toBe(201);
    const { csrPem } = await generateCsr('CN=system:node:n1, O=system:nodes');
    const refused = await call('POST', csrPath, { token: token.token, body: csrObject('node-csr-n1-takeover', csrPem) });
    expect(refused.status, JSON.stringify(refused.json)).toBe(403);
    expect(refused.json['message']).toMatch(/node "n1" exists and renewed its Lease.*kubectl delete node n1.*another --name/);
    const renewal = await call('POST', csrPath, { cert: n1, body: csrObject('node-csr-n1-renewal', csrPem) });
    expect(renewal.status, JSON.stringify(renewal.json)).toBe(201);
  });

  it('deleting the Node revokes its NATS user within a second; the node may ask again and register again', async () => {
    await waitUntil('the controller manager leads', async () => {
      const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager', { token: h.token });
      return lease.status === 200 && (lease.json['spec']?.holderIdentity ?? '') !== '';
    }, { timeoutMs: 30_000, intervalMs: 200 });
    // A first round warms the revoker: its informers sync after it takes the Lease, and a deletion
    // it did not see is acted on only after the registration grace (60 s). The second is timed.
    for (const [node, boundMs] of [['warm', 90_000], ['n3', 1_000]] as const) {
      const cert = await join(node, token.token);
      const credentials = await call('POST', credentialsPath(node), { cert, body: {} });
      expect(credentials.status, JSON.stringify(credentials.json)).toBe(201);
      const bus = await connectNode(credentials.json);
      const created = await call('POST', '/api/v1/nodes', { token: h.token, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: node } } });
      expect(created.status).toBe(201);
      await bus.flush();
      const deleted = await call('DELETE', `/api/v1/nodes/${node}`, { token: h.token });
      expect(deleted.status).toBe(200);
      const started = Date.now();
      await closedWithin(bus, boundMs);
      if (node === 'n3') expect(Date.now() - started).toBeLessThanOrEqual(1_000);
      await expect(NatsBus.connect({ servers: [h.cluster.natsUrl()], name: 'again', user: natsUser(credentials.json), connectTimeoutMs: 5_000, reconnect: false }))
        .rejects.toThrow(/authorization violation/i);
      const again = await call('POST', credentialsPath(node), { cert, body: {} });
      expect(again.status, JSON.stringify(again.json)).toBe(201);
      const renewed = await connectNode(again.json);
      await renewed.flush();
      await renewed.close();
    }
  }, 120_000);

  it('revoking the bootstrap token revokes the nodes it joined: bus users, certificates, API tokens, further credentials; a new token joins again', async () => {
    const joiner = await newToken();
    const joined = new Map<string, { cert: ClientCert; credentials: Record<string, any>; bus: NatsBus }>();
    for (const node of ['n4', 'n5']) {
      const cert = await join(node, joiner.token);
      const credentials = await call('POST', credentialsPath(node), { cert, body: {} });
      expect(credentials.status).toBe(201);
      const bus = await connectNode(credentials.json);
      await bus.flush();
      joined.set(node, { cert, credentials: credentials.json, bus });
    }
    const bystander = await connectNode((await call('POST', credentialsPath('n1'), { cert: n1, body: {} })).json);
    const revokedAt = new Date();
    const revoked = await h.request('PATCH', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${joiner.id}`, {
      headers: { 'Content-Type': 'application/merge-patch+json', Accept: 'application/json' },
      body: JSON.stringify({ metadata: { annotations: { 'kubus.io/revoked-at': revokedAt.toISOString() } } }),
    });
    expect(revoked.status, revoked.body).toBe(200);
    // Every node the token joined goes within the bound: one claims push revokes all their users.
    const started = Date.now();
    await Promise.all([...joined.values()].map(({ bus }) => closedWithin(bus, 5_000)));
    expect(Date.now() - started).toBeLessThanOrEqual(1_000);
    // A node joined by another token keeps its connection.
    await bystander.flush();
    await bystander.close();
    for (const [node, { cert, credentials }] of joined) {
      const refused = await waitUntil(`${node}'s credentials refused`, async () => {
        const reply = await call('POST', credentialsPath(node), { cert, body: {} });
        return reply.status === 401 ? reply : null;
      }, { timeoutMs: 5_000, intervalMs: 100 });
      expect(refused.json['message']).toMatch(new RegExp(`identity of node ${node} was revoked.*bootstrap token ${joiner.id} was revoked.*join again with a new token`));
      // Each member caches a node's identity record for up to 1 s (authn): the token is refused within that.
      await waitUntil(`${node}'s API token refused`, async () => (await call('POST', whoamiPath, { token: credentials['apiToken'].token, body: whoamiBody })).status === 401,
        { timeoutMs: 3_000, intervalMs: 100 });
    }
    // n4 joins again with a new token: its new certificate and credentials work, the old certificate stays refused.
    // Issue times are whole seconds: a certificate from the revocation's own second would be refused (node-identity-guard.ts).
    await waitUntil('the second after the revocation', () => Date.now() >= (Math.floor(revokedAt.getTime() / 1000) + 1) * 1000, { timeoutMs: 2_000 });
    const fresh = await newToken();
    const rejoined = await join('n4', fresh.token);
    const credentials = await call('POST', credentialsPath('n4'), { cert: rejoined, body: {} });
    expect(credentials.status, JSON.stringify(credentials.json)).toBe(201);
    expect((await call('POST', credentialsPath('n4'), { cert: joined.get('n4')?.cert as ClientCert, body: {} })).status).toBe(401);
    const record = await call('GET', '/api/v1/namespaces/kube-system/secrets/kubus-node-n4', { token: h.token });
    // The revocation stays (it refuses what was issued before it); the record now names the new token.
    expect(nodeIdentityOf(record.json as never)).toMatchObject({ bootstrapTokenId: fresh.id, revokedTokenId: joiner.id, revokedAt: expect.any(Date) });
  }, 60_000);

  it('deleting the bootstrap token revokes the node it joined as revoking it does', async () => {
    const joiner = await newToken();
    const cert = await join('n6', joiner.token);
    const credentials = await call('POST', credentialsPath('n6'), { cert, body: {} });
    expect(credentials.status).toBe(201);
    const bus = await connectNode(credentials.json);
    await bus.flush();
    const deleted = await call('DELETE', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${joiner.id}`, { token: h.token });
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    await closedWithin(bus, 5_000);
    const refused = await waitUntil('n6\'s credentials refused', async () => {
      const reply = await call('POST', credentialsPath('n6'), { cert, body: {} });
      return reply.status === 401 ? reply : null;
    }, { timeoutMs: 5_000, intervalMs: 100 });
    expect(refused.json['message']).toMatch(new RegExp(`identity of node n6 was revoked.*bootstrap token ${joiner.id} was deleted.*join again with a new token`));
  }, 30_000);
});
