/**
 * Node credentials through the API (issue 11 §1–2, server side), on a one-member cluster started
 * as `kubus up` starts it: a node joins with a bootstrap token (CSR → client certificate), then
 * `POST /api/v1/nodes/<name>/credentials` with that certificate gives it a NATS user and an API
 * token; the user connects to the bus, the token authenticates as the node. Another node's name
 * and an administrator are refused (403). The issued user is recorded in the node's identity
 * record, so deleting the Node revokes it on the bus within a second, and revoking the bootstrap
 * token revokes every node it joined: their certificates, tokens and further credentials
 * requests are refused, saying to join again. A bootstrap token cannot take the name of a live
 * node (Node with a fresh Lease): its CSR is refused naming `kubectl delete node`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusClosedError, NatsBus, encode, subjects, type NatsUser } from '../../bus/index.js';
import { newBootstrapToken, nodeIdentityOf } from '../../actors/apiserver/authn/index.js';
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
  h = await startApiHarness({ members: 1 });
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
    const expires = Date.parse(issued['nats'].expiresAt);
    expect(expires).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(Date.parse(issued['apiToken'].expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const whoami = await call('POST', whoamiPath, { token: issued['apiToken'].token, body: whoamiBody });
    expect(whoami.status, JSON.stringify(whoami.json)).toBe(201);
    expect(whoami.json['status'].userInfo).toMatchObject({ username: 'system:node:n1', groups: expect.arrayContaining(['system:nodes']) });
    const bus = await connectNode(issued);
    await bus.flush();
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
});
