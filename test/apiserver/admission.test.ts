/**
 * The admission plugins as pure functions: NamespaceLifecycle, LimitRanger, NodeRestriction,
 * ResourceQuota, webhook matching, and the webhook dispatcher with an injected call.
 */
import { describe, expect, it } from 'vitest';
import {
  CallSlots, WebhookCallError, admitNamespaceLifecycle, admitNodeRestriction, applyLimitRanges, checkQuotas, isNodeSettableLabel,
  parseQuantity, ruleMatches, runMutatingWebhooks, runValidatingWebhooks, webhookMatches,
  type AdmissionResponse, type ConfiguredWebhook, type WebhookDeps, type WebhookSpec,
} from '../../actors/apiserver/admission/index.js';
import type { AdmissionRequest } from '../../actors/apiserver/http/admission.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { applyDefaults } from '../../actors/apiserver/defaults.js';
import { ApiError } from '../../actors/apiserver/status.js';
import { validate } from '../../actors/apiserver/validation.js';
import type { KubeObject, UserInfo } from '../../actors/apiserver/types.js';
import type { Logger } from '../../bus/index.js';

const info = (resource: string, group = '', version = 'v1'): ResourceInfo => findResource(group, version, resource) as ResourceInfo;
const admin: UserInfo = { name: 'admin', uid: '1', groups: ['system:masters'] };
const nodeA: UserInfo = { name: 'system:node:a', uid: '2', groups: ['system:nodes', 'system:authenticated'] };
const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

function request(fields: Partial<AdmissionRequest> & Pick<AdmissionRequest, 'info' | 'operation'>): AdmissionRequest {
  return { user: admin, namespace: null, name: null, subresource: null, object: null, old: null, dryRun: false, ...fields };
}

function pod(name: string, fields: { nodeName?: string; cpu?: string; limitCpu?: string; phase?: string; labels?: Record<string, string> } = {}): KubeObject {
  const resources: Record<string, unknown> = {};
  if (fields.cpu !== undefined) resources['requests'] = { cpu: fields.cpu };
  if (fields.limitCpu !== undefined) resources['limits'] = { cpu: fields.limitCpu };
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', ...(fields.labels !== undefined ? { labels: fields.labels } : {}) },
    spec: { ...(fields.nodeName !== undefined ? { nodeName: fields.nodeName } : {}), containers: [{ name: 'c', image: 'nginx', resources }] },
    ...(fields.phase !== undefined ? { status: { phase: fields.phase } } : {}),
  };
}

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<ApiError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('quantities', () => {
  it('parses decimal, binary and exponent suffixes', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('2k')).toBe(2000);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity(3)).toBe(3);
    expect(parseQuantity('lots')).toBeUndefined();
  });
});

describe('NamespaceLifecycle', () => {
  const lookup = async (name: string): Promise<KubeObject | null> => {
    if (name === 'gone') return null;
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: name === 'ending' ? 'Terminating' : 'Active' } };
  };

  it('refuses creates in a missing namespace (404) and a terminating one (403)', async () => {
    const missing = await refusal(admitNamespaceLifecycle(request({ info: info('pods'), operation: 'CREATE', namespace: 'gone', name: 'p' }), lookup));
    expect(missing.httpStatus).toBe(404);
    const ending = await refusal(admitNamespaceLifecycle(request({ info: info('pods'), operation: 'CREATE', namespace: 'ending', name: 'p' }), lookup));
    expect(ending.httpStatus).toBe(403);
    expect(ending.message).toContain('unable to create new content in namespace ending because it is being terminated');
    await admitNamespaceLifecycle(request({ info: info('pods'), operation: 'CREATE', namespace: 'live', name: 'p' }), lookup);
  });

  it('refuses deleting the system namespaces', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const error = await refusal(admitNamespaceLifecycle(request({ info: info('namespaces'), operation: 'DELETE', name }), lookup));
      expect(error.message).toBe(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    await admitNamespaceLifecycle(request({ info: info('namespaces'), operation: 'DELETE', name: 'team' }), lookup);
  });
});

describe('LimitRanger', () => {
  const range = (item: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', ...item }] } });

  it('defaults missing limits and requests', () => {
    const out = applyLimitRanges(pod('p'), [range({ default: { cpu: '500m', memory: '128Mi' }, defaultRequest: { cpu: '100m' } })]);
    const resources = (out['spec'] as { containers: { resources: unknown }[] }).containers[0]?.resources;
    expect(resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  });

  it('keeps what the pod set and refuses over max or under min', async () => {
    const kept = applyLimitRanges(pod('p', { cpu: '200m', limitCpu: '300m' }), [range({ default: { cpu: '500m' } })]);
    expect((kept['spec'] as { containers: { resources: unknown }[] }).containers[0]?.resources).toEqual({ limits: { cpu: '300m' }, requests: { cpu: '200m' } });
    const over = await refusal(() => applyLimitRanges(pod('p', { limitCpu: '2' }), [range({ max: { cpu: '1' } })]));
    expect(over.httpStatus).toBe(403);
    expect(over.message).toContain('maximum cpu usage per Container is 1, but limit is 2');
    const under = await refusal(() => applyLimitRanges(pod('p', { cpu: '10m' }), [range({ min: { cpu: '50m' } })]));
    expect(under.message).toContain('minimum cpu usage per Container is 50m, but request is 10m');
  });
});

describe('NodeRestriction', () => {
  const nodes = info('nodes');
  const pods = info('pods');

  it('lets a node write only its own Node, without touching taints or reserved labels', async () => {
    const other = await refusal(() => admitNodeRestriction(request({ info: nodes, operation: 'UPDATE', user: nodeA, name: 'b', object: node('b'), old: node('b') })));
    expect(other.message).toBe('node "a" is not allowed to modify node "b"');
    const taints = await refusal(() => admitNodeRestriction(request({
      info: nodes, operation: 'UPDATE', user: nodeA, name: 'a', object: node('a', {}, []), old: node('a', {}, [{ key: 'k', effect: 'NoSchedule' }]),
    })));
    expect(taints.message).toBe('node "a" is not allowed to modify taints');
    const labels = await refusal(() => admitNodeRestriction(request({
      info: nodes, operation: 'UPDATE', user: nodeA, name: 'a', object: node('a', { 'node-role.kubernetes.io/control-plane': '' }), old: node('a'),
    })));
    expect(labels.message).toContain('node-role.kubernetes.io/control-plane');
    // Allowed labels, status writes and the node's own delete pass.
    admitNodeRestriction(request({ info: nodes, operation: 'UPDATE', user: nodeA, name: 'a', object: node('a', { 'kubernetes.io/hostname': 'a', team: 'x' }), old: node('a') }));
    admitNodeRestriction(request({ info: nodes, operation: 'DELETE', user: nodeA, name: 'a', old: node('a') }));
    expect(isNodeSettableLabel('node.kubernetes.io/instance-type')).toBe(true);
    expect(isNodeSettableLabel('node-restriction.kubernetes.io/x')).toBe(false);
  });

  it('lets a node update the status of and delete only pods bound to it', async () => {
    const theirs = pod('p', { nodeName: 'b' });
    const mine = pod('q', { nodeName: 'a' });
    const status = await refusal(() => admitNodeRestriction(request({ info: pods, operation: 'UPDATE', subresource: 'status', user: nodeA, namespace: 'ns', name: 'p', object: theirs, old: theirs })));
    expect(status.httpStatus).toBe(403);
    const del = await refusal(() => admitNodeRestriction(request({ info: pods, operation: 'DELETE', user: nodeA, namespace: 'ns', name: 'p', old: theirs })));
    expect(del.message).toBe('node "a" can only delete pods with spec.nodeName set to itself');
    const update = await refusal(() => admitNodeRestriction(request({ info: pods, operation: 'UPDATE', user: nodeA, namespace: 'ns', name: 'q', object: mine, old: mine })));
    expect(update.httpStatus).toBe(403);
    admitNodeRestriction(request({ info: pods, operation: 'UPDATE', subresource: 'status', user: nodeA, namespace: 'ns', name: 'q', object: mine, old: mine }));
    admitNodeRestriction(request({ info: pods, operation: 'DELETE', user: nodeA, namespace: 'ns', name: 'q', old: mine }));
    // Anyone else is not restricted.
    admitNodeRestriction(request({ info: pods, operation: 'DELETE', namespace: 'ns', name: 'p', old: theirs }));
  });
});

describe('ResourceQuota', () => {
  const quota = (name: string, hard: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard } });

  it('refuses a pod over the pod count, naming the quota', async () => {
    const error = await refusal(() => checkQuotas(info('pods'), pod('p3'), [quota('pod-quota', { pods: '2' })], [pod('p1'), pod('p2')]));
    expect(error.httpStatus).toBe(403);
    expect(error.message).toBe('pods "p3" is forbidden: exceeded quota: pod-quota, requested: pods=1, used: pods=2, limited: pods=2');
    // Finished pods do not count.
    checkQuotas(info('pods'), pod('p3'), [quota('pod-quota', { pods: '2' })], [pod('p1'), pod('p2', { phase: 'Succeeded' })]);
  });

  it('counts count/<resource> and compute requests', async () => {
    const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const counted = await refusal(() => checkQuotas(info('configmaps'), cm('c2'), [quota('q', { 'count/configmaps': '1' })], [cm('c1')]));
    expect(counted.message).toContain('exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1');
    const cpu = await refusal(() => checkQuotas(info('pods'), pod('p', { cpu: '600m' }), [quota('compute', { 'requests.cpu': '1' })], [pod('o', { cpu: '500m' })]));
    expect(cpu.message).toContain('requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1');
    const unspecified = await refusal(() => checkQuotas(info('pods'), pod('p'), [quota('compute', { 'requests.cpu': '1' })], []));
    expect(unspecified.message).toContain('failed quota: compute: must specify requests.cpu');
    checkQuotas(info('pods'), pod('p', { cpu: '400m' }), [quota('compute', { 'requests.cpu': '1' })], [pod('o', { cpu: '500m' })]);
  });
});

describe('webhook matching', () => {
  const base = request({ info: info('pods'), operation: 'CREATE', namespace: 'ns', name: 'p', object: pod('p', { labels: { app: 'web' } }) });

  it('matches operations, groups, versions, resources with subresources and scope', () => {
    expect(ruleMatches({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }, base)).toBe(true);
    expect(ruleMatches({ operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }, base)).toBe(false);
    expect(ruleMatches({ operations: ['*'], apiGroups: ['apps'], apiVersions: ['*'], resources: ['*'] }, base)).toBe(false);
    expect(ruleMatches({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['pods'] }, { ...base, subresource: 'status' })).toBe(false);
    expect(ruleMatches({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['pods/status'] }, { ...base, subresource: 'status' })).toBe(true);
    expect(ruleMatches({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*/*'] }, { ...base, subresource: 'status' })).toBe(true);
    expect(ruleMatches({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: 'Cluster' }, base)).toBe(false);
  });

  it('applies namespace and object selectors', () => {
    const hook: WebhookSpec = {
      name: 'w', rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }],
      namespaceSelector: { matchLabels: { admission: 'on' } }, objectSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
    };
    expect(webhookMatches(hook, base, { admission: 'on' })).toBe(true);
    expect(webhookMatches(hook, base, { admission: 'off' })).toBe(false);
    expect(webhookMatches(hook, { ...base, object: pod('p', { labels: { app: 'db' } }) }, { admission: 'on' })).toBe(false);
  });
});

describe('webhook dispatch', () => {
  const rules = [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }];
  const hook = (name: string, fields: Partial<WebhookSpec> = {}): ConfiguredWebhook => ({
    configuration: 'cfg', webhook: { name, rules, sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:1/' }, ...fields },
  });
  const deps = (answer: (webhook: WebhookSpec, uid: string) => AdmissionResponse | Error): WebhookDeps => ({
    slots: new CallSlots(4, 4), logger: silent, namespaceLabels: async () => ({}),
    call: async (webhook, uid) => { const r = answer(webhook, uid); if (r instanceof Error) throw r; return r; },
  });
  const warnings: string[] = [];
  const base = request({ info: info('pods'), operation: 'CREATE', namespace: 'ns', name: 'p', object: pod('p'), warn: (w) => warnings.push(w) });
  const patch = (ops: unknown[]): string => Buffer.from(JSON.stringify(ops)).toString('base64');

  it('applies JSON patches in order and forwards warnings', async () => {
    const out = await runMutatingWebhooks(deps((webhook, uid) => ({
      uid, allowed: true, patchType: 'JSONPatch', warnings: [`from ${webhook.name}`],
      patch: patch([{ op: 'add', path: `/metadata/labels`, value: { [webhook.name]: 'yes' } }]),
    })), [hook('one'), hook('two')], base);
    expect(out?.metadata.labels).toEqual({ two: 'yes' });
    expect(warnings).toEqual(['from one', 'from two']);
  });

  it('turns a denial into the status it carries, naming the webhook', async () => {
    const error = await refusal(runValidatingWebhooks(deps((_, uid) => ({ uid, allowed: false, status: { code: 403, message: 'no latest tags' } })), [hook('policy')], base));
    expect(error.httpStatus).toBe(403);
    expect(error.message).toBe('admission webhook "policy" denied the request: no latest tags');
  });

  it('honours failurePolicy: Fail refuses with 500, Ignore skips', async () => {
    const broken = deps((webhook) => new WebhookCallError(webhook.name, 'connection refused'));
    const failed = await refusal(runValidatingWebhooks(broken, [hook('strict')], base));
    expect(failed.httpStatus).toBe(500);
    expect(failed.message).toContain('failed calling webhook "strict": connection refused');
    await runValidatingWebhooks(broken, [hook('lenient', { failurePolicy: 'Ignore' })], base);
    const out = await runMutatingWebhooks(deps((_, uid) => ({ uid, allowed: true, patchType: 'JSONPatch', patch: 'bm90IGpzb24=' })), [hook('bad', { failurePolicy: 'Ignore' })], base);
    expect(out).toEqual(base.object);
  });

  it('refuses a dry run that would reach a webhook with side effects', async () => {
    const error = await refusal(runValidatingWebhooks(deps((_, uid) => ({ uid, allowed: true })), [hook('effects', { sideEffects: 'Some' })], { ...base, dryRun: true }));
    expect(error.httpStatus).toBe(400);
    expect(error.message).toBe('admission webhook "effects" does not support dry run');
  });
});

describe('webhook configurations', () => {
  const vwc = info('validatingwebhookconfigurations', 'admissionregistration.k8s.io');
  const config = (webhook: Record<string, unknown>): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' },
    webhooks: [{ name: 'w.test', clientConfig: { url: 'https://127.0.0.1:9443/' }, sideEffects: 'None', rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }], ...webhook }],
  });

  it('are defaulted as admissionregistration/v1 defaults them', () => {
    const webhook = (applyDefaults(vwc, config({}))['webhooks'] as Record<string, unknown>[])[0];
    expect(webhook).toMatchObject({ failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, namespaceSelector: {}, objectSelector: {} });
  });

  it('refuse timeouts over 30 s, missing sideEffects, plain http and unknown failure policies', () => {
    expect(validate(vwc, config({}), null)).toEqual([]);
    const fields = (webhook: Record<string, unknown>): string[] => validate(vwc, config(webhook), null).map((c) => c.field);
    expect(fields({ timeoutSeconds: 31 })).toEqual(['webhooks[0].timeoutSeconds']);
    expect(fields({ sideEffects: undefined })).toEqual(['webhooks[0].sideEffects']);
    expect(fields({ clientConfig: { url: 'http://example.com/' } })).toEqual(['webhooks[0].clientConfig.url']);
    expect(fields({ failurePolicy: 'Maybe' })).toEqual(['webhooks[0].failurePolicy']);
  });
});
