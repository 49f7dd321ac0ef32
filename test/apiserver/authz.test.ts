/**
 * RBAC and the Node authorizer as pure functions: rule matching (verbs, groups, subresources,
 * wildcards, resource names, non-resource URLs), the rule resolver's namespaced vs cluster
 * effect, subjects (User, Group, ServiceAccount), escalation coverage, the node graph, and the 403
 * message shape Kubernetes clients expect.
 */
import { describe, expect, it } from 'vitest';
import {
  ClusterAuthorizer, NodeGraph, RbacPolicy, authorizeNode, checkNoEscalation, covers, forbiddenError, podReferences, ruleAllows,
  staticPolicySource, subjectMatches, type Attributes,
} from '../../actors/apiserver/authz/index.js';
import { findResource } from '../../actors/apiserver/registry/resources.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const res = (verb: string, resource: string, extra: Partial<Extract<Attributes, { resourceRequest: true }>> = {}): Attributes => ({
  resourceRequest: true, verb, apiGroup: '', resource, subresource: null, namespace: 'ns', name: null, ...extra,
});

describe('rule matching', () => {
  it('matches verbs, groups, subresources and wildcards as Kubernetes does', () => {
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', 'pods'))).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('list', 'pods'))).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, res('get', 'pods'))).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', 'pods', { subresource: 'status' }))).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/status'] }, res('get', 'pods', { subresource: 'status' }))).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, res('get', 'nodes', { subresource: 'status' }))).toBe(true);
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, res('delete', 'deployments', { apiGroup: 'apps' }))).toBe(true);
  });
  it('limits by resource name; a named rule never allows list or create', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    expect(ruleAllows(rule, res('get', 'configmaps', { name: 'a' }))).toBe(true);
    expect(ruleAllows(rule, res('get', 'configmaps', { name: 'b' }))).toBe(false);
    expect(ruleAllows(rule, res('list', 'configmaps'))).toBe(false);
  });
  it('matches non-resource URLs exactly or by a trailing-star prefix', () => {
    const rule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/healthz' })).toBe(true);
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/apis/apps' })).toBe(true);
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/version' })).toBe(false);
  });
  it('matches subjects: users, groups, service accounts', () => {
    const sa = { name: 'system:serviceaccount:ns:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'] };
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder', namespace: 'ns' }, sa, null)).toBe(true);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, sa, 'ns')).toBe(true);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder', namespace: 'other' }, sa, null)).toBe(false);
    expect(subjectMatches({ kind: 'Group', name: 'system:serviceaccounts:ns' }, sa, null)).toBe(true);
    expect(subjectMatches({ kind: 'User', name: 'alice' }, sa, null)).toBe(false);
  });
});

const rbac = 'rbac.authorization.k8s.io/v1';
const podReader = { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'pod-reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] };
const policyObjects: KubeObject[] = [
  podReader,
  { apiVersion: rbac, kind: 'Role', metadata: { name: 'cm-writer', namespace: 'team' }, rules: [{ verbs: ['create', 'get'], apiGroups: [''], resources: ['configmaps'] }] },
  { apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'b1', namespace: 'team' }, roleRef: { kind: 'Role', name: 'cm-writer' }, subjects: [{ kind: 'User', name: 'alice' }] },
  { apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'b2', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
  { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'b3' }, roleRef: { kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'Group', name: 'auditors' }] },
];
const policy = new RbacPolicy(staticPolicySource(policyObjects));
const alice = { name: 'alice', groups: ['system:authenticated'] };

describe('the rule resolver', () => {
  it('gives a RoleBinding effect in its namespace only, a ClusterRoleBinding everywhere', () => {
    expect(policy.allows(alice, res('get', 'pods', { namespace: 'team' }))).toBe(true);
    expect(policy.allows(alice, res('get', 'pods', { namespace: 'other' }))).toBe(false);
    expect(policy.allows(alice, res('create', 'configmaps', { namespace: 'team' }))).toBe(true);
    expect(policy.allows(alice, res('delete', 'configmaps', { namespace: 'team' }))).toBe(false);
    const auditor = { name: 'bob', groups: ['auditors'] };
    expect(policy.allows(auditor, res('list', 'pods', { namespace: 'anything' }))).toBe(true);
    expect(policy.allows(auditor, res('list', 'pods', { namespace: null }))).toBe(true);
    expect(policy.allows({ name: 'root', groups: ['system:masters'] }, res('delete', 'nodes', { namespace: null }))).toBe(true);
  });
  it('refuses with Kubernetes\' message shape', () => {
    const error = forbiddenError(alice, res('get', 'secrets', { namespace: 'team', name: 's' }));
    expect(error.httpStatus).toBe(403);
    expect(error.message).toBe('secrets "s" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team"');
    expect(forbiddenError(alice, res('list', 'nodes', { namespace: null })).message)
      .toBe('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  });
});

describe('escalation', () => {
  it('covers a subset and names the rules missing from a superset', () => {
    const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['x'] }]).covered).toBe(true);
    const result = covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }]);
    expect(result.covered).toBe(false);
    expect(result.missing).toEqual([{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]);
    expect(covers(owner, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }]).covered).toBe(false);
  });
  it('refuses a role or binding granting more than the user holds', () => {
    const roles = findResource('rbac.authorization.k8s.io', 'v1', 'roles')!;
    const bindings = findResource('rbac.authorization.k8s.io', 'v1', 'rolebindings')!;
    const base = { operation: 'CREATE' as const, user: { ...alice, uid: 'a' }, namespace: 'team', name: null, subresource: null, old: null, dryRun: false };
    const role = (rules: unknown): KubeObject => ({ apiVersion: rbac, kind: 'Role', metadata: { name: 'r', namespace: 'team' }, rules });
    expect(() => checkNoEscalation(policy, { ...base, info: roles, object: role([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]) })).not.toThrow();
    expect(() => checkNoEscalation(policy, { ...base, info: roles, object: role([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]) }))
      .toThrow(/attempting to grant RBAC permissions not currently held/);
    const binding = (name: string): KubeObject => ({ apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'b', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name }, subjects: [] });
    expect(() => checkNoEscalation(policy, { ...base, info: bindings, object: binding('pod-reader') })).not.toThrow();
    expect(() => checkNoEscalation(policy, { ...base, info: bindings, object: binding('missing') })).toThrow(/not found/);
  });
});

describe('the Node authorizer', () => {
  const pod = (name: string, node: string): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' },
    spec: {
      nodeName: node, volumes: [{ name: 'v', secret: { secretName: `${name}-secret` } }, { name: 'c', persistentVolumeClaim: { claimName: `${name}-claim` } }],
      containers: [{ name: 'c', envFrom: [{ configMapRef: { name: `${name}-env` } }], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: `${name}-key`, key: 'k' } } }] }],
    },
  });
  const pods = [pod('a', 'n1'), pod('b', 'n2')];
  const graph = new NodeGraph({
    pods: () => pods,
    pvc: (namespace, name) => (name === 'a-claim' ? { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace }, spec: { volumeName: 'pv-a' } } : undefined),
  });
  const decide = (a: Attributes, fieldSelector?: string): string => authorizeNode('n1', graph, { attributes: a, fieldSelector });

  it('finds what a pod references', () => {
    expect(podReferences(pods[0]!).map((r) => `${r.kind}:${r.name}`).sort()).toEqual(['configmap:a-env', 'pvc:a-claim', 'secret:a-key', 'secret:a-secret']);
  });
  it('allows its own objects and what its pods reference, nothing of another node', () => {
    expect(decide(res('get', 'pods', { name: 'a' }))).toBe('allow');
    expect(decide(res('get', 'pods', { name: 'b' }))).toBe('noOpinion');
    expect(decide(res('update', 'pods', { name: 'a', subresource: 'status' }))).toBe('allow');
    expect(decide(res('update', 'pods', { name: 'a' }))).toBe('noOpinion');
    expect(decide(res('get', 'secrets', { name: 'a-secret' }))).toBe('allow');
    expect(decide(res('get', 'secrets', { name: 'a-key' }))).toBe('allow');
    expect(decide(res('get', 'secrets', { name: 'b-secret' }))).toBe('noOpinion');
    expect(decide(res('get', 'configmaps', { name: 'a-env' }))).toBe('allow');
    expect(decide(res('get', 'persistentvolumes', { namespace: null, name: 'pv-a' }))).toBe('allow');
    expect(decide(res('get', 'nodes', { namespace: null, name: 'n1' }))).toBe('allow');
    // Kubernetes' NodeRules: a node reads every Node (its pod network, zones); it writes only its own.
    expect(decide(res('get', 'nodes', { namespace: null, name: 'n2' }))).toBe('allow');
    expect(decide(res('update', 'nodes', { namespace: null, name: 'n2' }))).toBe('noOpinion');
    expect(decide(res('patch', 'nodes', { namespace: null, name: 'n2', subresource: 'status' }))).toBe('noOpinion');
    expect(decide(res('update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n1' }))).toBe('allow');
    expect(decide(res('update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n2' }))).toBe('noOpinion');
    expect(decide(res('create', 'events'))).toBe('allow');
  });
  it('lists pods only with its own spec.nodeName selector', () => {
    expect(decide(res('list', 'pods', { namespace: null }))).toBe('noOpinion');
    expect(decide(res('list', 'pods', { namespace: null }), 'spec.nodeName=n2')).toBe('noOpinion');
    expect(decide(res('watch', 'pods', { namespace: null }), 'spec.nodeName=n1')).toBe('allow');
  });
  it('combines with RBAC: a node user falls back to RBAC after no opinion', () => {
    const authorizer = new ClusterAuthorizer(policy, graph);
    const node = { name: 'system:node:n1', groups: ['system:nodes', 'auditors'] };
    expect(authorizer.allows(node, res('get', 'pods', { name: 'b' }))).toBe(true);
    expect(authorizer.allows({ name: 'system:node:n1', groups: ['system:nodes'] }, res('get', 'pods', { name: 'b' }))).toBe(false);
  });
  it('asks the graph again once it has loaded, and answers 503 (not 403) to a node while it never does', async () => {
    const podsInfo = findResource('', 'v1', 'pods')!;
    const node = { name: 'system:node:n1', groups: ['system:nodes'], uid: 'n1' };
    const request = { user: node, verb: 'patch' as const, info: podsInfo, namespace: 'ns', name: 'late', subresource: 'status' };
    const known: KubeObject[] = [];
    const lagging = new NodeGraph({ pods: () => known, pvc: () => undefined });
    const waits: number[] = [];
    const loadsThenAllows = new ClusterAuthorizer(policy, lagging, async (timeoutMs) => {
      waits.push(timeoutMs);
      known.push(pod('late', 'n1'));
      lagging.invalidate();
      return true;
    });
    await expect(loadsThenAllows.authorize(request)).resolves.toBeUndefined();
    expect(waits).toHaveLength(1);
    const neverLoads = new ClusterAuthorizer(policy, new NodeGraph({ pods: () => [], pvc: () => undefined }), async () => false);
    await expect(neverLoads.authorize(request)).rejects.toMatchObject({ httpStatus: 503 });
    const loaded = new ClusterAuthorizer(policy, new NodeGraph({ pods: () => [], pvc: () => undefined }), async () => true);
    await expect(loaded.authorize(request)).rejects.toMatchObject({ httpStatus: 403 });
    await expect(loaded.authorize({ ...request, user: { name: 'alice', groups: [], uid: 'a' } })).rejects.toMatchObject({ httpStatus: 403 });

    // Loaded but behind: the binding arrives with the graph's next change, within the catch-up bound.
    const behind: KubeObject[] = [];
    const behindGraph = new NodeGraph({ pods: () => behind, pvc: () => undefined });
    let changes = 0;
    const catchesUp = new ClusterAuthorizer(policy, behindGraph, async () => true, async () => {
      changes++;
      if (changes === 2) {
        behind.push(pod('late', 'n1'));
        behindGraph.invalidate();
      }
      return true;
    });
    await expect(catchesUp.authorize(request)).resolves.toBeUndefined();
    expect(changes).toBe(2);
    // A graph that never changes again: refused once the bound has passed, not held forever.
    let clock = 0;
    const quiet = new ClusterAuthorizer(policy, new NodeGraph({ pods: () => [], pvc: () => undefined }), async () => true, async (timeoutMs) => {
      clock += timeoutMs;
      return false;
    }, () => clock);
    await expect(quiet.authorize(request)).rejects.toMatchObject({ httpStatus: 403 });
    expect(clock).toBe(1_000);
  });
});
