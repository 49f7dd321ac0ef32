/**
 * Authorization end to end on a real 1-member cluster with static-token users: a 403 matrix of
 * RBAC (namespaced Role vs ClusterRole through a RoleBinding vs ClusterRoleBinding, verbs,
 * resource names), escalation attempts (roles and bindings granting more than the author holds,
 * allowed with `escalate`/`bind`), and the Node authorizer (node n1 against node n2's objects and
 * its own); then `kubectl auth can-i` answering yes and no for two users. Policy changes reach the
 * authorizer through a watch, so each phase first waits for the first grant it relies on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokenFile } from '../../actors/apiserver/tokens.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const users = [
  { token: 'alice-token', name: 'alice' },
  { token: 'bob-token', name: 'bob' },
  { token: 'carol-token', name: 'carol', groups: ['auditors'] },
  { token: 'dave-token', name: 'dave' },
  { token: 'n1-token', name: 'system:node:n1', groups: ['system:nodes'] },
];
const json = { 'Content-Type': 'application/json' };
const mergePatch = { 'Content-Type': 'application/merge-patch+json' };
const rbac = '/apis/rbac.authorization.k8s.io/v1';

let h: ApiHarness;

async function admin(method: string, path: string, body: object): Promise<void> {
  const reply = await h.request(method, path, { headers: json, body: JSON.stringify(body) });
  if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status} ${reply.body}`);
}

const role = (name: string, rules: object[]): object => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules });
const binding = (name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: object[]): object => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName }, subjects,
});
const user = (name: string): object => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });
const pod = (name: string, node: string, secret: string): object => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { nodeName: node, volumes: [{ name: 's', secret: { secretName: secret } }], containers: [{ name: 'c', image: 'nginx', envFrom: [{ configMapRef: { name: `${name}-env` } }] }] },
});

async function status(token: string, method: string, path: string, body?: object, headers: Record<string, string> = json): Promise<number> {
  const reply = await h.request(method, path, { token, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return reply.status;
}

describe.runIf(runs)('authorization', () => {
  beforeAll(async () => {
    h = await startApiHarness({ members: 1, users });
    for (const ns of ['team', 'other']) await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const t = `${rbac}/namespaces/team`;
    await admin('POST', `${t}/roles`, role('cm-writer', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list'] }]));
    await admin('POST', `${t}/roles`, role('rbac-author', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'get'] }]));
    await admin('POST', `${t}/roles`, role('public-reader', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['public'], verbs: ['get'] }]));
    await admin('POST', `${t}/roles`, role('binder', [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: ['create'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['edit'], verbs: ['bind'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] },
    ]));
    await admin('POST', `${t}/rolebindings`, binding('alice-cm', 'Role', 'cm-writer', [user('alice')]));
    await admin('POST', `${t}/rolebindings`, binding('alice-rbac', 'Role', 'rbac-author', [user('alice')]));
    await admin('POST', `${t}/rolebindings`, binding('alice-view', 'ClusterRole', 'view', [user('alice')]));
    await admin('POST', `${t}/rolebindings`, binding('bob-public', 'Role', 'public-reader', [user('bob')]));
    await admin('POST', `${t}/rolebindings`, binding('dave-binder', 'Role', 'binder', [user('dave')]));
    await admin('POST', `${rbac}/clusterroles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'node-reader' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }] });
    await admin('POST', `${rbac}/clusterrolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'auditors' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-reader' }, subjects: [{ kind: 'Group', name: 'auditors' }],
    });
    for (const name of ['public', 'private', 'pa-env', 'pb-env']) await admin('POST', '/api/v1/namespaces/team/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    for (const name of ['sa', 'sb']) await admin('POST', '/api/v1/namespaces/team/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: {} });
    for (const name of ['n1', 'n2']) await admin('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    await admin('POST', '/api/v1/namespaces/team/pods', pod('pa', 'n1', 'sa'));
    await admin('POST', '/api/v1/namespaces/team/pods', pod('pb', 'n2', 'sb'));
    for (const name of ['n1', 'n2']) {
      await admin('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: {} });
    }
    // The authorizer learns the policy and the pods through watches: wait for the last of each to arrive.
    await waitUntil('the auditors binding is effective', async () => (await status('carol-token', 'GET', '/api/v1/nodes/n1')) === 200, { timeoutMs: 15_000 });
    await waitUntil('the default view role is effective', async () => (await status('alice-token', 'GET', '/api/v1/namespaces/team/pods')) === 200, { timeoutMs: 15_000 });
    await waitUntil('pod pb is in the node graph', async () => (await status('n1-token', 'GET', '/api/v1/namespaces/team/pods/pa')) === 200, { timeoutMs: 15_000 });
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('answers RBAC probes: namespaced vs cluster roles, verbs, resource names', async () => {
    const probes: [string, string, string, number, object?][] = [
      ['alice-token', 'GET', '/api/v1/namespaces/team/configmaps/public', 200],
      ['alice-token', 'GET', '/api/v1/namespaces/team/configmaps', 200],
      ['alice-token', 'POST', '/api/v1/namespaces/team/configmaps', 201, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'made-by-alice' } }],
      ['alice-token', 'DELETE', '/api/v1/namespaces/team/configmaps/public', 403],
      ['alice-token', 'GET', '/api/v1/namespaces/other/configmaps/public', 403],
      ['alice-token', 'GET', '/api/v1/namespaces/team/secrets/sa', 403],
      ['alice-token', 'GET', '/api/v1/namespaces/other/pods', 403],
      ['alice-token', 'GET', '/api/v1/pods', 403],
      ['alice-token', 'GET', '/api/v1/nodes', 403],
      ['bob-token', 'GET', '/api/v1/namespaces/team/configmaps/public', 200],
      ['bob-token', 'GET', '/api/v1/namespaces/team/configmaps/private', 403],
      ['bob-token', 'GET', '/api/v1/namespaces/team/configmaps', 403],
      ['carol-token', 'GET', '/api/v1/nodes', 200],
      ['carol-token', 'DELETE', '/api/v1/nodes/n2', 403],
      ['carol-token', 'GET', '/api/v1/namespaces/team/pods', 403],
    ];
    const results = await Promise.all(probes.map(async ([token, method, path, , body]) => status(token, method, path, body)));
    expect(results.map((s, i) => `${probes[i]![0]} ${probes[i]![1]} ${probes[i]![2]} → ${s}`))
      .toEqual(probes.map(([token, method, path, expected]) => `${token} ${method} ${path} → ${expected}`));
    const refused = await h.request('GET', '/api/v1/namespaces/team/secrets/sa', { token: 'alice-token' });
    expect(JSON.parse(refused.body)).toMatchObject({
      kind: 'Status', code: 403, reason: 'Forbidden',
      message: 'secrets "sa" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team"',
    });
  });

  it('refuses escalation unless the author holds the rules or has escalate/bind', async () => {
    const t = `${rbac}/namespaces/team`;
    const probes: [string, string, object, number][] = [
      ['alice-token', `${t}/roles`, role('subset', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]), 201],
      ['alice-token', `${t}/roles`, role('grab-secrets', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]), 403],
      ['alice-token', `${t}/roles`, role('star', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), 403],
      ['alice-token', `${t}/rolebindings`, binding('bob-view', 'ClusterRole', 'view', [user('bob')]), 201],
      ['alice-token', `${t}/rolebindings`, binding('bob-edit', 'ClusterRole', 'edit', [user('bob')]), 403],
      ['alice-token', `${t}/rolebindings`, binding('bob-admin', 'ClusterRole', 'cluster-admin', [user('bob')]), 403],
      ['dave-token', `${t}/rolebindings`, binding('bob-edit-by-dave', 'ClusterRole', 'edit', [user('bob')]), 201],
      ['dave-token', `${t}/rolebindings`, binding('bob-admin-by-dave', 'ClusterRole', 'admin', [user('bob')]), 403],
      ['dave-token', `${t}/roles`, role('escalated', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]), 201],
      ['bob-token', `${t}/roles`, role('bob-role', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]), 403],
    ];
    const results: string[] = [];
    for (const [token, path, body] of probes) results.push(`${token} ${(body as { metadata: { name: string } }).metadata.name} → ${await status(token, 'POST', path, body)}`);
    expect(results).toEqual(probes.map(([token, , body, expected]) => `${token} ${(body as { metadata: { name: string } }).metadata.name} → ${expected}`));
  });

  it('lets node n1 write only its own node, lease and pods\' status, read its pods and what they reference (and, as Kubernetes\' NodeRules, every Node)', async () => {
    const n = 'n1-token';
    const lease = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    const probes: [string, string, number, object?, Record<string, string>?][] = [
      ['GET', '/api/v1/nodes/n1', 200],
      ['GET', '/api/v1/nodes/n2', 200],
      ['PATCH', '/api/v1/nodes/n1/status', 200, { status: { phase: 'Running' } }, mergePatch],
      ['PATCH', '/api/v1/nodes/n2/status', 403, { status: { phase: 'Running' } }, mergePatch],
      ['PATCH', '/api/v1/nodes/n2', 403, { metadata: { labels: { x: 'y' } } }, mergePatch],
      ['DELETE', '/api/v1/nodes/n1', 403],
      ['GET', '/api/v1/nodes', 200],
      ['GET', `${lease}/n1`, 200],
      ['PATCH', `${lease}/n1`, 200, { spec: { holderIdentity: 'n1' } }, mergePatch],
      ['PATCH', `${lease}/n2`, 403, { spec: { holderIdentity: 'n1' } }, mergePatch],
      ['GET', '/api/v1/namespaces/team/pods/pa', 200],
      ['GET', '/api/v1/namespaces/team/pods/pb', 403],
      ['PATCH', '/api/v1/namespaces/team/pods/pa/status', 200, { status: { phase: 'Running' } }, mergePatch],
      ['PATCH', '/api/v1/namespaces/team/pods/pb/status', 403, { status: { phase: 'Running' } }, mergePatch],
      ['PATCH', '/api/v1/namespaces/team/pods/pa', 403, { metadata: { labels: { x: 'y' } } }, mergePatch],
      ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', 200],
      ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2', 403],
      ['GET', '/api/v1/pods', 403],
      ['GET', '/api/v1/namespaces/team/secrets/sa', 200],
      ['GET', '/api/v1/namespaces/team/secrets/sb', 403],
      ['GET', '/api/v1/namespaces/team/configmaps/pa-env', 200],
      ['GET', '/api/v1/namespaces/team/configmaps/pb-env', 403],
      ['GET', '/api/v1/namespaces/team/secrets', 403],
      ['POST', '/api/v1/namespaces/team/events', 201, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'Node', name: 'n1' }, reason: 'Test', message: 'm' }],
      // Eviction: a node may evict its own pods (dry run, so pa stays for the list below), never others'.
      ['POST', '/api/v1/namespaces/team/pods/pb/eviction', 403, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'pb', namespace: 'team' } }],
      ['POST', '/api/v1/namespaces/team/pods/pa/eviction?dryRun=All', 201, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'pa', namespace: 'team' } }],
    ];
    const results: string[] = [];
    for (const [method, path, , body, headers] of probes) results.push(`${method} ${path} → ${await status(n, method, path, body, headers ?? json)}`);
    expect(results).toEqual(probes.map(([method, path, expected]) => `${method} ${path} → ${expected}`));
    const listed = await h.request('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', { token: n });
    expect((JSON.parse(listed.body) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name)).toEqual(['pa']);
  });

  it('answers kubectl auth can-i truthfully for two users', async () => {
    const canI = async (token: string, args: string[]): Promise<string> => {
      const result = await h.kubectl(['auth', 'can-i', ...args, '--token', token]);
      return `${args.join(' ')}: ${result.stdout.trim().split(' ')[0] ?? ''} (${result.code})${result.code > 1 ? result.stderr : ''}`;
    };
    expect(await canI('alice-token', ['create', 'configmaps', '-n', 'team'])).toBe('create configmaps -n team: yes (0)');
    expect(await canI('alice-token', ['get', 'secrets', '-n', 'team'])).toBe('get secrets -n team: no (1)');
    // bob gained view and edit in the escalation test, so the second user is carol (auditors: nodes get/list).
    expect(await canI('carol-token', ['get', 'nodes/n2'])).toBe('get nodes/n2: yes (0)');
    expect(await canI('carol-token', ['delete', 'nodes/n2'])).toBe('delete nodes/n2: no (1)');
    expect(await canI('carol-token', ['list', 'pods', '-n', 'team'])).toBe('list pods -n team: no (1)');
    expect(await canI(h.token, ['delete', 'nodes'])).toBe('delete nodes: yes (0)');
    const listed = await h.kubectl(['auth', 'can-i', '--list', '-n', 'team', '--token', 'alice-token']);
    expect(listed.stdout).toContain('configmaps');
  });

  it('impersonates only for callers allowed to, and then answers as the impersonated user', async () => {
    // kubectl --as: the admin asking on alice's behalf gets alice's answers, not its own.
    const asAlice = async (args: string[]): Promise<string> => (await h.kubectl(['auth', 'can-i', ...args, '--as', 'alice'])).stdout.trim();
    expect(await asAlice(['create', 'configmaps', '-n', 'team'])).toBe('yes');
    expect(await asAlice(['get', 'secrets', '-n', 'team'])).toMatch(/^no/);
    const refused = await h.request('GET', '/api/v1/namespaces/team/configmaps', { token: 'alice-token', headers: { 'Impersonate-User': 'bob' } });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toContain('User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
    const asNode = { 'Impersonate-User': 'system:node:n1', 'Impersonate-Group': 'system:nodes' };
    expect((await h.request('GET', '/api/v1/namespaces/team/pods/pa', { headers: asNode })).status).toBe(200);
    expect((await h.request('GET', '/api/v1/namespaces/team/pods/pb', { headers: asNode })).status).toBe(403);
    expect((await h.request('GET', '/api/v1/namespaces/team/pods', { headers: { 'Impersonate-Group': 'system:masters' } })).status).toBe(400);
  });

  it('gives each component of the generated token file its own role and no more', async () => {
    const tokens = [...parseTokenFile(readFileSync(join(h.dir, 'credentials', 'tokens.csv'), 'utf8'))];
    const tokenOf = (name: string): string => (tokens.find(([, user]) => user.name === name) as [string, unknown])[0];
    const scheduler = tokenOf('system:kube-scheduler');
    const proxy = tokenOf('system:kube-proxy');
    // Members run the scheduler, which creates its Lease once elected: the scheduler may read it.
    await waitUntil('the kube-scheduler Lease', async () => (await h.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler')).status === 200, { timeoutMs: 20_000 });
    const probes: [string, string, string, number][] = [
      [scheduler, 'GET', '/api/v1/nodes', 200],
      [scheduler, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler', 200],
      [scheduler, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager', 403],
      [scheduler, 'GET', '/api/v1/namespaces/team/secrets', 403],
      [proxy, 'GET', '/api/v1/services', 200],
      [proxy, 'GET', '/api/v1/namespaces/team/secrets', 403],
      [proxy, 'DELETE', '/api/v1/namespaces/team/pods/pa', 403],
    ];
    const results: string[] = [];
    for (const [token, method, path] of probes) results.push(`${method} ${path} → ${(await h.request(method, path, { token })).status}`);
    expect(results).toEqual(probes.map(([, method, path, expected]) => `${method} ${path} → ${expected}`));
  });
});
