/**
 * TLS bootstrap end to end on a one-member cluster: a bootstrap token creates a CSR for
 * system:node:n7 and gets it back signed (201, Approved, status.certificate); that certificate then
 * authenticates as system:node:n7 in system:nodes, under the Node authorizer (its own Node yes,
 * another node's no). The bootstrap token can do nothing else: 403 on pods, nodes and secrets, and
 * on a CSR for CN=admin,O=system:masters; an expired bootstrap token gets 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { waitUntil } from '../support/wait.js';
import { requireComponent } from '../support/components.js';
import { callAs, startApiHarness, type ApiHarness, type JsonReply } from './harness.js';
import { csrObject, generateCsr } from './csr-fixtures.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const whoamiPath = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

let h: ApiHarness;
let bootstrapToken: string;

type Reply = JsonReply;

const call = (method: string, path: string, options: Parameters<typeof callAs>[3] = {}): Promise<Reply> => callAs(h, method, path, options);

async function storeSecret(secret: object): Promise<void> {
  const reply = await call('POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: secret });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
}

beforeAll(async () => {
  if (!runs) return;
  h = await startApiHarness({ members: 1 });
  const created = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
  await storeSecret(created.secret);
  bootstrapToken = created.token;
  // The default policy (system:node-bootstrapper for system:bootstrappers) is created and watched after start.
  await waitUntil('the bootstrapper may list CSRs', async () => (await call('GET', csrPath, { token: bootstrapToken })).status === 200,
    { timeoutMs: 20_000, intervalMs: 100 });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe.runIf(runs)('TLS bootstrap with a bootstrap token', () => {
  let nodeCert: { certPem: string; keyPem: string };

  it('a CSR for system:node:n7 is answered 201 with the signed certificate and Approved', async () => {
    const { csrPem, keyPem } = await generateCsr('CN=system:node:n7, O=system:nodes');
    const reply = await call('POST', csrPath, { token: bootstrapToken, body: csrObject('node-csr-n7', csrPem) });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['spec'].username).toBe(`system:bootstrap:${bootstrapToken.split('.')[0] as string}`);
    expect(reply.json['status'].conditions).toEqual([expect.objectContaining({ type: 'Approved', status: 'True' })]);
    nodeCert = { certPem: Buffer.from(reply.json['status'].certificate as string, 'base64').toString('utf8'), keyPem };
    const stored = await call('GET', `${csrPath}/node-csr-n7`, { token: bootstrapToken });
    expect(stored.json['status'].certificate).toBe(reply.json['status'].certificate);
  });

  it('the certificate authenticates as system:node:n7 in system:nodes', async () => {
    const reply = await call('POST', whoamiPath, { cert: nodeCert, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['status'].userInfo).toMatchObject({ username: 'system:node:n7', groups: expect.arrayContaining(['system:nodes']) });
  });

  it('the Node authorizer applies: its own Node writable, another node\'s readable (Kubernetes\' NodeRules) but not writable', async () => {
    for (const name of ['n7', 'n8']) {
      const created = await call('POST', '/api/v1/nodes', { token: h.token, body: { apiVersion: 'v1', kind: 'Node', metadata: { name } } });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
    }
    const own = await call('GET', '/api/v1/nodes/n7', { cert: nodeCert });
    expect(own.status, JSON.stringify(own.json)).toBe(200);
    const other = await call('GET', '/api/v1/nodes/n8', { cert: nodeCert });
    expect(other.status, JSON.stringify(other.json)).toBe(200);
    const write = await call('DELETE', '/api/v1/nodes/n8', { cert: nodeCert });
    expect(write.status, JSON.stringify(write.json)).toBe(403);
  });

  it('the node renews its own certificate but gets none for another node', async () => {
    const own = await generateCsr('CN=system:node:n7, O=system:nodes');
    const renewed = await call('POST', csrPath, { cert: nodeCert, body: csrObject('node-csr-n7-renew', own.csrPem) });
    expect(renewed.status, JSON.stringify(renewed.json)).toBe(201);
    expect(renewed.json['status'].certificate).toEqual(expect.any(String));
    const other = await generateCsr('CN=system:node:n8, O=system:nodes');
    const pending = await call('POST', csrPath, { cert: nodeCert, body: csrObject('node-csr-n8-by-n7', other.csrPem) });
    expect(pending.status, JSON.stringify(pending.json)).toBe(201);
    expect(pending.json['status'].certificate).toBeUndefined();
  });

  it('the bootstrap token gets 403 on pods, nodes and secrets', async () => {
    for (const path of ['/api/v1/namespaces/default/pods', '/api/v1/nodes', '/api/v1/namespaces/kube-system/secrets']) {
      const reply = await call('GET', path, { token: bootstrapToken });
      expect(reply.status, `${path}: ${JSON.stringify(reply.json)}`).toBe(403);
    }
  });

  it('a CSR for CN=admin,O=system:masters is refused 403, naming the subject', async () => {
    const { csrPem } = await generateCsr('CN=admin, O=system:masters');
    const reply = await call('POST', csrPath, { token: bootstrapToken, body: csrObject('escalate', csrPem) });
    expect(reply.status, JSON.stringify(reply.json)).toBe(403);
    expect(reply.json['message']).toMatch(/subject must be exactly CN=system:node:<name>,O=system:nodes; got CN=admin,O=system:masters/);
    expect((await call('GET', `${csrPath}/escalate`, { token: h.token })).status).toBe(404);
  });

  it('an expired bootstrap token gets 401', async () => {
    const expired = newBootstrapToken(new Date(Date.now() - 1_000));
    await storeSecret(expired.secret);
    const { csrPem } = await generateCsr('CN=system:node:n9, O=system:nodes');
    const reply = await call('POST', csrPath, { token: expired.token, body: csrObject('node-csr-n9', csrPem) });
    expect(reply.status, JSON.stringify(reply.json)).toBe(401);
  });

  it('kubectl lists CSRs with the signer, requestor and condition columns', async () => {
    const result = await h.kubectl(['get', 'csr']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
    expect(result.stdout).toMatch(/node-csr-n7\s+\S+\s+kubernetes.io\/kube-apiserver-client-kubelet\s+system:bootstrap:\S+\s+<none>\s+Approved,Issued/);
  });
});
