/**
 * The registry's pure parts: the resource table kubectl's discovery depends on, the update
 * strategy (what a write may change, when generation moves), the key layout and the translation
 * of store watch events into Kubernetes watch events with selector transitions.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { CompactedError, NoQuorumError, OutcomeUnknownError, type KeyValue, type WatchEvent } from '../../store/index.js';
import { BusTimeoutError } from '../../bus/index.js';
import {
  apiGroups, findByKind, findResource, listPrefix, mergeForUpdate, objectKey, resources, rfc3339Seconds, toApiError, translateWatchEvent,
  type ResourceInfo,
} from '../../actors/apiserver/registry/index.js';

const must = (info: ResourceInfo | undefined): ResourceInfo => {
  if (info === undefined) throw new Error('missing resource');
  return info;
};
const pods = must(findResource('', 'v1', 'pods'));
const configmaps = must(findResource('', 'v1', 'configmaps'));
const deployments = must(findResource('apps', 'v1', 'deployments'));

describe('resources', () => {
  it('serves every resource the issue names, with Kubernetes short names, categories and subresources', () => {
    const names = new Set(resources.map((r) => r.resource));
    for (const name of ['namespaces', 'nodes', 'pods', 'services', 'endpoints', 'configmaps', 'secrets', 'events', 'leases', 'replicasets', 'deployments',
      'persistentvolumes', 'persistentvolumeclaims', 'horizontalpodautoscalers', 'roles', 'clusterroles', 'rolebindings', 'clusterrolebindings',
      'mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) expect(names.has(name), name).toBe(true);
    const short = Object.fromEntries(resources.flatMap((r) => r.shortNames.map((s) => [s, r.resource])));
    expect(short).toMatchObject({ po: 'pods', svc: 'services', deploy: 'deployments', rs: 'replicasets', ns: 'namespaces', no: 'nodes', cm: 'configmaps',
      ev: 'events', ep: 'endpoints', pv: 'persistentvolumes', pvc: 'persistentvolumeclaims', hpa: 'horizontalpodautoscalers' });
    expect(new Set(resources.filter((r) => r.categories.includes('all')).map((r) => r.resource)))
      .toEqual(new Set(['pods', 'services', 'deployments', 'replicasets', 'horizontalpodautoscalers']));
    expect(pods.subresources).toEqual(['status', 'attach', 'binding', 'eviction', 'exec', 'log', 'portforward']);
    expect(deployments.subresources).toEqual(['status', 'scale']);
    expect(must(findResource('', 'v1', 'nodes')).namespaced).toBe(false);
    expect(deployments).toMatchObject({ kind: 'Deployment', listKind: 'DeploymentList', singular: 'deployment', namespaced: true });
  });

  it('finds by kind and serves HPAs in autoscaling v1 and v2, preferring v2', () => {
    expect(findByKind('coordination.k8s.io', 'v1', 'Lease')?.resource).toBe('leases');
    expect(findByKind('apps', 'v1', 'Pod')).toBeUndefined();
    expect(findResource('autoscaling', 'v1', 'horizontalpodautoscalers')).toBeDefined();
    expect(findResource('autoscaling', 'v2', 'horizontalpodautoscalers')).toBeDefined();
    const groups = apiGroups();
    expect(groups[0]).toEqual({ group: '', versions: ['v1'], preferredVersion: 'v1' });
    expect(groups.find((g) => g.group === 'autoscaling')).toEqual({ group: 'autoscaling', versions: ['v2', 'v1'], preferredVersion: 'v2' });
    expect(groups.map((g) => g.group)).toEqual(['', 'apps', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io',
      'scheduling.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'certificates.k8s.io']);
  });

  it('every (group, version, resource) is unique and each has the standard verbs', () => {
    const keys = resources.map((r) => `${r.group}/${r.version}/${r.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of resources) expect(r.verbs).toEqual(expect.arrayContaining(['create', 'get', 'list', 'watch', 'update', 'patch', 'delete']));
  });
});

describe('key layout', () => {
  it('stores namespaced objects under /registry/<resource>/<ns>/<name>, cluster-scoped under /registry/<resource>/<name>', () => {
    expect(objectKey(deployments, 'default', 'd1')).toBe('/registry/deployments/default/d1');
    expect(objectKey(must(findResource('', 'v1', 'nodes')), null, 'n1')).toBe('/registry/nodes/n1');
    expect(listPrefix(pods, 'a')).toBe('/registry/pods/a/');
    expect(listPrefix(pods, null)).toBe('/registry/pods/');
  });

  it('prints timestamps as RFC 3339 seconds in UTC', () => {
    expect(rfc3339Seconds(Date.parse('2026-11-24T05:39:34.999Z'))).toBe('2026-11-24T05:39:34Z');
  });
});

describe('update strategy', () => {
  const stored: KubeObject = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'd', namespace: 'default', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', generation: 4, resourceVersion: '10' },
    spec: { replicas: 1 }, status: { replicas: 1 },
  };

  it('keeps server-owned metadata and status on a main-resource write; bumps generation only for spec changes', () => {
    const next = mergeForUpdate(deployments, stored, {
      ...stored, metadata: { name: 'd', uid: 'forged', creationTimestamp: 'never', deletionTimestamp: 'now', labels: { a: 'b' } }, spec: { replicas: 2 }, status: { replicas: 9 },
    }, null);
    expect(next.metadata).toMatchObject({ uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', namespace: 'default', generation: 5, labels: { a: 'b' } });
    expect(next.metadata.deletionTimestamp).toBeUndefined();
    expect(next['status']).toEqual({ replicas: 1 });
    const metadataOnly = mergeForUpdate(deployments, stored, { ...stored, metadata: { ...stored.metadata, annotations: { x: 'y' } } }, null);
    expect(metadataOnly.metadata.generation).toBe(4);
  });

  it('a /status write changes only status and never generation', () => {
    const next = mergeForUpdate(deployments, stored, { ...stored, metadata: { ...stored.metadata, labels: { no: 'pe' } }, spec: { replicas: 7 }, status: { replicas: 3 } }, 'status');
    expect(next['spec']).toEqual({ replicas: 1 });
    expect(next['status']).toEqual({ replicas: 3 });
    expect(next.metadata.labels).toBeUndefined();
    expect(next.metadata.generation).toBe(4);
  });

  it('kinds without a status subresource take the body as written; data changes count as generation', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', generation: 1 }, data: { a: '1' } };
    const next = mergeForUpdate(configmaps, cm, { ...cm, data: { a: '2' } }, null);
    expect(next['data']).toEqual({ a: '2' });
    expect(next.metadata.generation).toBe(2);
  });
});

describe('watch translation', () => {
  const encode = (object: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(object));
  const kv = (name: string, labels: Record<string, string>, modRevision: number, version: number): KeyValue => ({
    key: `/registry/pods/default/${name}`, value: encode({ metadata: { name, namespace: 'default', labels } }), createRevision: 1, modRevision, version, lease: 0,
  });
  const matchesApp = (o: KubeObject): boolean => o.metadata.labels?.['app'] === 'x';
  const put = (current: KeyValue, prev: KeyValue | null): WatchEvent => ({ type: 'put', kv: current, prevKv: prev });

  it('creates are ADDED, matching changes MODIFIED, and selector transitions become ADDED/DELETED', () => {
    expect(translateWatchEvent(pods, put(kv('a', { app: 'x' }, 5, 1), null), matchesApp)?.type).toBe('ADDED');
    expect(translateWatchEvent(pods, put(kv('a', { app: 'y' }, 5, 1), null), matchesApp)).toBeNull();
    expect(translateWatchEvent(pods, put(kv('a', { app: 'x' }, 6, 2), kv('a', { app: 'x' }, 5, 1)), matchesApp)?.type).toBe('MODIFIED');
    expect(translateWatchEvent(pods, put(kv('a', { app: 'x' }, 6, 2), kv('a', { app: 'y' }, 5, 1)), matchesApp)?.type).toBe('ADDED');
    const left = translateWatchEvent(pods, put(kv('a', { app: 'y' }, 6, 2), kv('a', { app: 'x' }, 5, 1)), matchesApp);
    expect(left?.type).toBe('DELETED');
    expect((left?.object as KubeObject).metadata.resourceVersion).toBe('6');
    expect(translateWatchEvent(pods, put(kv('a', { app: 'y' }, 6, 2), kv('a', { app: 'y' }, 5, 1)), matchesApp)).toBeNull();
  });

  it('deletes carry the last state stamped with the deletion revision, apiVersion and kind', () => {
    const tombstone: KeyValue = { key: '/registry/pods/default/a', value: new Uint8Array(), createRevision: 0, modRevision: 9, version: 0, lease: 0 };
    const deleted = translateWatchEvent(pods, { type: 'delete', kv: tombstone, prevKv: kv('a', { app: 'x' }, 5, 1) }, matchesApp);
    expect(deleted).toEqual({ type: 'DELETED', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', labels: { app: 'x' }, resourceVersion: '9' } } });
    expect(translateWatchEvent(pods, { type: 'delete', kv: tombstone, prevKv: kv('a', { app: 'y' }, 5, 1) }, matchesApp)).toBeNull();
    const bare = translateWatchEvent(pods, { type: 'delete', kv: tombstone, prevKv: null }, matchesApp);
    expect((bare?.object as KubeObject).metadata).toEqual({ name: 'a', namespace: 'default', resourceVersion: '9' });
  });
});

describe('store errors as API errors', () => {
  it('tells a write that never applied (503) from one that may have (504)', () => {
    const noQuorum = toApiError(new NoQuorumError(1, 3), 'write');
    expect([noQuorum.httpStatus, noQuorum.reason, noQuorum.message]).toEqual([503, 'ServiceUnavailable',
      'the cluster store has no quorum: 1 of 3 members reachable; the write was not applied']);
    const unknown = toApiError(new OutcomeUnknownError('leader lost'), 'write');
    expect([unknown.httpStatus, unknown.reason]).toEqual([504, 'Timeout']);
    expect(unknown.message).toContain('may or may not have been applied');
    expect(toApiError(new BusTimeoutError('s', 10), 'precheck').httpStatus).toBe(503);
    expect(toApiError(new NoQuorumError(0, 1), 'read').message).toContain('the read was not served');
  });

  it('a compacted revision is 410 Expired with the "too old resource version" message clients recognise', () => {
    const expired = toApiError(new CompactedError(5, 100), 'read');
    expect(expired.toStatus()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 5 (100)', reason: 'Expired', code: 410 });
  });
});

describe('status writes and uids', () => {
  it('refuses a status write that names another object\'s uid (a newer pod of the same name) with 409', () => {
    const info = { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, subresources: ['status'] } as unknown as Parameters<typeof mergeForUpdate>[0];
    const current = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', uid: 'new' }, status: { phase: 'Pending' } };
    expect(() => mergeForUpdate(info, current, { ...current, metadata: { name: 'p', uid: 'old' }, status: { phase: 'Running' } }, 'status')).toThrow(/UID in precondition: old/);
    expect(mergeForUpdate(info, current, { ...current, metadata: { name: 'p', uid: 'new' }, status: { phase: 'Running' } }, 'status')['status']).toEqual({ phase: 'Running' });
  });
});

