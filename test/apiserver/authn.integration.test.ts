/**
 * Authentication end to end on a real one-member cluster (the chain `kubus server` builds): every
 * way to be refused answers 401 with a message naming the problem but never the credential (no
 * credentials, wrong token, expired ServiceAccount token, revoked kubus token, expired bootstrap
 * token, a client certificate from another CA, an expired one), and every way in works and is
 * reported by SelfSubjectReview (`kubectl auth whoami`): client certificates (CN user, O groups),
 * ServiceAccount tokens from TokenRequest, kubus tokens from `kubus token create` (then revoked
 * with `kubus token revoke`: 401 on the same member within the cache TTL), bootstrap tokens.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueClientCert, type PemPair } from '../../actors/apiserver/pki.js';
import { issueServiceAccountToken, newBootstrapToken, newKubusToken } from '../../actors/apiserver/authn/index.js';
import { waitUntil } from '../support/wait.js';
import { callAs, startApiHarness, type ApiHarness, type JsonReply } from './harness.js';
import { requireComponent } from '../support/components.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const whoamiPath = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const reviewBody = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

let h: ApiHarness;
let ca: PemPair;

beforeAll(async () => {
  h = await startApiHarness({ members: 1 });
  ca = { certPem: h.caCertPem, keyPem: readFileSync(join(h.dir, 'credentials', 'pki', 'ca.key'), 'utf8') };
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

type Reply = JsonReply;

const call = (method: string, path: string, options: Parameters<typeof callAs>[3] = {}): Promise<Reply> => callAs(h, method, path, options);

const whoami = (options: { token?: string; cert?: PemPair }): Promise<Reply> => call('POST', whoamiPath, { ...options, body: reviewBody });

function kubus(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'token', ...args, '--kubeconfig', h.kubeconfigPath],
      { cwd: repoRoot, timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr }));
  });
}

function expect401(reply: Reply, mentions: RegExp, secret?: string): void {
  expect(reply.status, JSON.stringify(reply.json)).toBe(401);
  expect(reply.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  expect(reply.json['message']).toMatch(mentions);
  if (secret !== undefined) expect(JSON.stringify(reply.json)).not.toContain(secret);
}

async function createServiceAccount(name: string): Promise<Record<string, any>> {
  const reply = await call('POST', '/api/v1/namespaces/default/serviceaccounts', { token: h.token, body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } }) });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return reply.json;
}

async function storeSecret(secret: object): Promise<void> {
  const reply = await call('POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: JSON.stringify(secret) });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
}

describe.runIf(runs)('401 matrix', () => {
  it('no credentials', async () => {
    expect401(await call('GET', '/api/v1/namespaces'), /Unauthorized/);
  });

  it('a wrong static token, and a kubus-shaped token that was never issued', async () => {
    expect401(await call('GET', '/api/v1/namespaces', { token: 'not-a-token' }), /Unauthorized/);
    const forged = `kubus-abcdefghij.${'A'.repeat(43)}`;
    expect401(await call('GET', '/api/v1/namespaces', { token: forged }), /kubus token abcdefghij is not valid/, forged);
  });

  it('an expired ServiceAccount token', async () => {
    const account = await createServiceAccount('expired-sa');
    const token = issueServiceAccountToken({
      privateKeyPem: readFileSync(join(h.dir, 'credentials', 'pki', 'sa.key'), 'utf8'), serviceAccount: account as never,
      now: new Date(Date.now() - 7_200_000), expirationSeconds: 600,
    }).token;
    expect401(await whoami({ token }), /ServiceAccount default\/expired-sa expired/, token);
  });

  it('a ServiceAccount token signed by another key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const account = await createServiceAccount('forged-sa');
    const token = issueServiceAccountToken({ privateKeyPem: other, serviceAccount: account as never, now: new Date(), expirationSeconds: 600 }).token;
    expect401(await whoami({ token }), /signature does not verify/, token);
  });

  it('an expired bootstrap token', async () => {
    const expired = newBootstrapToken(new Date(Date.now() - 1_000));
    await storeSecret(expired.secret);
    expect401(await whoami({ token: expired.token }), new RegExp(`bootstrap token ${expired.id} expired`), expired.token);
  });

  it('an expired kubus token', async () => {
    const expired = newKubusToken({ name: 'late', uid: 'late', groups: [] }, new Date(Date.now() - 1_000));
    await storeSecret(expired.secret);
    expect401(await whoami({ token: expired.token }), new RegExp(`kubus token ${expired.id} expired`), expired.token);
  });

  it('a client certificate from another CA', async () => {
    const otherCa = await createCa('not-the-cluster-ca');
    const cert = await issueClientCert(otherCa, { commonName: 'mallory', organizations: ['system:masters'] });
    expect401(await whoami({ cert }), /client certificate is not trusted/);
  });

  it('an expired client certificate from the cluster CA', async () => {
    const cert = await issueClientCert(ca, { commonName: 'old' }, { validity: { notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() - 3_600_000) } });
    expect401(await whoami({ cert }), /client certificate has expired/);
  });
});

describe.runIf(runs)('authenticated callers', () => {
  it('a client certificate: CN is the user, O the groups', async () => {
    const cert = await issueClientCert(ca, { commonName: 'alice', organizations: ['dev', 'ops'] });
    const reply = await whoami({ cert });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json).toMatchObject({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });
    expect(reply.json['status'].userInfo).toEqual({ username: 'alice', groups: ['dev', 'ops', 'system:authenticated'] });
  });

  it('a ServiceAccount token from TokenRequest; deleting the ServiceAccount revokes it', async () => {
    const account = await createServiceAccount('robot');
    const issued = await call('POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', {
      token: h.token, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 900 } }),
    });
    expect(issued.status, JSON.stringify(issued.json)).toBe(201);
    expect(issued.json['spec'].expirationSeconds).toBe(900);
    const token = issued.json['status'].token as string;
    const reply = await whoami({ token });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['status'].userInfo).toEqual({
      username: 'system:serviceaccount:default:robot', uid: account['metadata'].uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    expect((await call('DELETE', '/api/v1/namespaces/default/serviceaccounts/robot', { token: h.token })).status).toBe(200);
    const refused = await waitUntil('the deleted ServiceAccount\'s token refused', async () => {
      const r = await whoami({ token });
      return r.status === 401 ? r : null;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect401(refused, /ServiceAccount no longer exists/, token);
  });

  it('kubus token create, use, list, revoke → 401 "revoked"', async () => {
    const created = await kubus(['create', '--user', 'carol', '--group', 'team-a', '--group', 'team-b', '--ttl', '1h']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const id = /^kubus-([a-z0-9]+)\./.exec(token)?.[1] as string;
    const reply = await whoami({ token });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['status'].userInfo).toEqual({ username: 'carol', uid: 'carol', groups: ['team-a', 'team-b', 'system:authenticated'] });
    // The store holds only a digest of the token.
    const stored = await call('GET', `/api/v1/namespaces/kube-system/secrets/kubus-token-${id}`, { token: h.token });
    expect(JSON.stringify(stored.json)).not.toContain(token.split('.')[1] as string);
    const listed = await kubus(['list']);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+kubus\\s+carol\\s+team-a,team-b\\s+\\S+\\s+valid`));
    expect(listed.stdout).not.toContain(token);
    const revoked = await kubus(['revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await waitUntil('the revoked token refused', async () => {
      const r = await whoami({ token });
      return r.status === 401 ? r : null;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect401(refused, new RegExp(`kubus token ${id} was revoked`), token);
    expect((await kubus(['list'])).stdout).toMatch(new RegExp(`${id}\\s.*revoked`));
    expect((await kubus(['revoke', 'nosuchid00'])).stderr).toMatch(/no token with id nosuchid00/);
  });

  it('a bootstrap token: user system:bootstrap:<id>, group system:bootstrappers', async () => {
    const created = await kubus(['create', '--bootstrap', '--ttl', '30m']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const reply = await whoami({ token });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['status'].userInfo).toEqual({ username: `system:bootstrap:${token.split('.')[0] as string}`, groups: ['system:bootstrappers', 'system:authenticated'] });
  });

  it('kubectl auth whoami with the admin kubeconfig prints kubus-admin', async () => {
    const result = await h.kubectl(['auth', 'whoami']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Username\s+kubus-admin/);
    expect(result.stdout).toMatch(/system:masters/);
  });

  it('kubectl presents a client certificate from its kubeconfig: auth whoami prints the CN and O', async () => {
    const cert = await issueClientCert(ca, { commonName: 'frank', organizations: ['qa'] });
    const path = h.manifest('frank.kubeconfig', stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'frank',
      clusters: [{ name: 'kubus', cluster: { server: h.url, 'certificate-authority-data': Buffer.from(h.caCertPem).toString('base64') } }],
      users: [{ name: 'frank', user: { 'client-certificate-data': Buffer.from(cert.certPem).toString('base64'), 'client-key-data': Buffer.from(cert.keyPem).toString('base64') } }],
      contexts: [{ name: 'frank', context: { cluster: 'kubus', user: 'frank' } }],
    }));
    const result = await h.kubectl(['--kubeconfig', path, 'auth', 'whoami']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Username\s+frank/);
    expect(result.stdout).toMatch(/qa/);
  });

  it('kubectl create token (a protobuf TokenRequest) issues a ServiceAccount token that authenticates', async () => {
    await createServiceAccount('builder');
    const result = await h.kubectl(['create', 'token', 'builder']);
    expect(result.code, result.stderr).toBe(0);
    const reply = await whoami({ token: result.stdout.trim() });
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    expect(reply.json['status'].userInfo.username).toBe('system:serviceaccount:default:builder');
  });

  it('discovery lists authentication.k8s.io/v1 selfsubjectreviews and serviceaccounts/token', async () => {
    const group = await call('GET', '/apis/authentication.k8s.io/v1', { token: h.token });
    expect(group.json['resources']).toEqual([expect.objectContaining({ name: 'selfsubjectreviews', kind: 'SelfSubjectReview', verbs: ['create'] })]);
    const core = await call('GET', '/api/v1', { token: h.token });
    expect(core.json['resources']).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'serviceaccounts/token', kind: 'TokenRequest', verbs: ['create'] })]));
  });
});
