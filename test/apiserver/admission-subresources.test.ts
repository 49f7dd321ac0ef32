/**
 * Admission of the pod subresources that carry another kind's object (pods/eviction with a policy/v1
 * Eviction, pods/binding with a Binding): the chain must not run pod defaulting, validation or
 * quota on them, webhooks must see them only when a rule names the subresource, and NodeRestriction
 * must let a node evict only the pods bound to it. Pure: the chain runs on an in-memory storage
 * whose webhook configurations are fixed, and the webhook call is a function.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionChain, admissionReview, admitNodeRestriction, ruleMatches, type AdmissionResponse, type WebhookSpec } from '../../actors/apiserver/admission/index.js';
import type { AdmissionRequest } from '../../actors/apiserver/http/admission.js';
import type { ObjectStorage } from '../../actors/apiserver/http/objects-port.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject, UserInfo } from '../../actors/apiserver/types.js';
import type { Logger } from '../../bus/index.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const pods = findResource('', 'v1', 'pods') as ResourceInfo;
const admin: UserInfo = { name: 'admin', uid: '1', groups: ['system:masters'] };
const nodeA: UserInfo = { name: 'system:node:a', uid: '2', groups: ['system:nodes', 'system:authenticated'] };

const pod = (name: string, nodeName?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...(nodeName !== undefined ? { nodeName } : {}) },
});
const eviction = (name: string): KubeObject => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'ns' } });
const binding = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'ns' }, target: { apiVersion: 'v1', kind: 'Node', name: 'a' } });

function subresourceRequest(subresource: string, object: KubeObject, fields: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { info: pods, operation: 'CREATE', user: admin, namespace: 'ns', name: object.metadata.name ?? null, subresource, object, old: null, dryRun: false, ...fields };
}

/** Reads only: the namespace, a quota that allows no pod at all, and the given validating webhooks. */
function storageWith(webhooks: WebhookSpec[]): ObjectStorage {
  const byResource: Record<string, KubeObject[]> = {
    namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }],
    resourcequotas: [{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace: 'ns' }, spec: { hard: { pods: '0' } } }],
    validatingwebhookconfigurations: [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'v' }, webhooks } as unknown as KubeObject],
  };
  const unused = async (): Promise<never> => { throw new Error('admission only reads'); };
  return {
    get: async (info, _namespace, name) => {
      const found = (byResource[info.resource] ?? []).find((o) => o.metadata.name === name);
      if (found === undefined) throw new ApiError(404, 'NotFound', `${info.resource} "${name}" not found`);
      return found;
    },
    list: async (info) => ({ items: byResource[info.resource] ?? [], resourceVersion: '1' }),
    watch: async () => ({ stop: () => undefined }),
    create: unused, update: unused, guaranteedUpdate: unused, delete: unused, deleteCollection: unused,
  };
}

const validating = (name: string, resources: string[]): WebhookSpec => ({
  name, sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:1/' }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources }],
});

/** A chain whose webhooks all deny, recording which were called and with which subResource. */
function denyingChain(webhooks: WebhookSpec[]): { chain: AdmissionChain; called: { webhook: string; subResource: unknown }[] } {
  const called: { webhook: string; subResource: unknown }[] = [];
  const chain = new AdmissionChain({
    objects: storageWith(webhooks), logger: silent,
    call: async (webhook, uid, review): Promise<AdmissionResponse> => {
      called.push({ webhook: webhook.name, subResource: (review as { request: { subResource?: unknown } }).request.subResource });
      return { uid, allowed: false, status: { message: 'not now' } };
    },
  }).start();
  return { chain, called };
}

describe('admission of pod subresources', () => {
  it('runs no pod defaulting, validation or quota on an Eviction or a Binding', async () => {
    const { chain, called } = denyingChain([]);
    // The quota allows no pod, and neither object would pass pod validation: both go through unchanged.
    expect(await chain.admit(subresourceRequest('eviction', eviction('p'), { old: pod('p') }))).toEqual(eviction('p'));
    expect(await chain.admit(subresourceRequest('binding', binding('p')))).toEqual(binding('p'));
    // The pod itself still gets the pod stages: the quota refuses it.
    await expect(chain.admit(subresourceRequest('eviction', pod('q'), { subresource: null }))).rejects.toThrow('exceeded quota: no-pods');
    expect(called).toEqual([]);
    chain.stop();
  });

  it('calls a webhook on pods/eviction or pods/binding only when a rule names the subresource', async () => {
    const { chain, called } = denyingChain([validating('pods.test', ['pods']), validating('evictions.test', ['pods/eviction']), validating('bindings.test', ['pods/binding'])]);
    await expect(chain.admit(subresourceRequest('eviction', eviction('p'), { old: pod('p') })))
      .rejects.toThrow('admission webhook "evictions.test" denied the request: not now');
    await expect(chain.admit(subresourceRequest('binding', binding('p')))).rejects.toThrow('admission webhook "bindings.test" denied the request: not now');
    expect(called).toEqual([{ webhook: 'evictions.test', subResource: 'eviction' }, { webhook: 'bindings.test', subResource: 'binding' }]);
    chain.stop();
  });

  it('matches subresource rules as Kubernetes does: exact, wildcard, and never by the bare resource', () => {
    const rule = (resources: string[]): Parameters<typeof ruleMatches>[0] => ({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources });
    const evict = { operation: 'CREATE' as const, info: pods, subresource: 'eviction', namespace: 'ns' };
    expect(ruleMatches(rule(['pods/eviction']), evict)).toBe(true);
    expect(ruleMatches(rule(['pods/*']), evict)).toBe(true);
    expect(ruleMatches(rule(['*/eviction']), evict)).toBe(true);
    expect(ruleMatches(rule(['pods']), evict)).toBe(false);
    expect(ruleMatches(rule(['pods/binding']), evict)).toBe(false);
  });
});

describe('NodeRestriction on pod subresources', () => {
  const evict = (old: KubeObject | null): AdmissionRequest => subresourceRequest('eviction', eviction('p'), { user: nodeA, old });

  it('lets a node evict a pod bound to itself', () => {
    expect(() => admitNodeRestriction(evict(pod('p', 'a')))).not.toThrow();
  });

  it('refuses a node evicting a pod bound elsewhere, unbound, or unknown', () => {
    for (const old of [pod('p', 'b'), pod('p'), null]) {
      expect(() => admitNodeRestriction(evict(old))).toThrow('node "a" can only evict pods with spec.nodeName set to itself');
    }
  });

  it('refuses a node every other pod subresource, binding included', () => {
    expect(() => admitNodeRestriction(subresourceRequest('binding', binding('p'), { user: nodeA })))
      .toThrow('unexpected pod subresource "binding", node "a" may only write \'status\' and \'eviction\'');
  });

  it('leaves users that are not nodes to RBAC', () => {
    expect(() => admitNodeRestriction({ ...evict(pod('p', 'b')), user: admin })).not.toThrow();
  });
});

describe('the review a webhook receives for a subresource', () => {
  it('names the object\'s own kind (Eviction, Binding), and the pod\'s for status', () => {
    const kindOf = (review: unknown): unknown => (review as { request: { kind: unknown; requestKind: unknown } }).request.kind;
    expect(kindOf(admissionReview('u1', subresourceRequest('eviction', eviction('p')), eviction('p')))).toEqual({ group: 'policy', version: 'v1', kind: 'Eviction' });
    expect(kindOf(admissionReview('u2', subresourceRequest('binding', binding('p')), binding('p')))).toEqual({ group: '', version: 'v1', kind: 'Binding' });
    expect(kindOf(admissionReview('u3', subresourceRequest('status', pod('p')), pod('p')))).toEqual({ group: '', version: 'v1', kind: 'Pod' });
  });
});
