/**
 * The four patch types on plain objects: RFC 6902 operations and their 400/422 split, RFC 7386
 * null-deletes and whole-array replacement, strategic merge by merge key with the `$` directives
 * kubectl sends (the observed apply patch of K8S-API.md §5.2), and the simplified server-side apply.
 */
import { describe, expect, it } from 'vitest';
import { applyPatch, skeletonFor } from '../../actors/apiserver/patch.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

function resource(group: string, version: string, plural: string): ResourceInfo {
  const info = findResource(group, version, plural);
  if (info === undefined) throw new Error(`no resource ${plural}`);
  return info;
}
const pods = resource('', 'v1', 'pods');
const deployments = resource('apps', 'v1', 'deployments');
const configmaps = resource('', 'v1', 'configmaps');
const services = resource('', 'v1', 'services');

const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

function pod(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'web', tier: 'front' }, finalizers: ['a/x'] },
    spec: {
      containers: [
        { name: 'c', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
        { name: 'd', image: 'busybox', command: ['sleep', '1'] },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    },
  };
}

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', env: [{ name: 'X', value: 'y' }] }] } },
    },
  };
}

function expectApiError(fn: () => unknown, status: number): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).httpStatus).toBe(status);
    return error as ApiError;
  }
  throw new Error(`expected an ApiError ${status}`);
}

const spec = (o: KubeObject): Record<string, any> => o['spec'] as Record<string, any>;

describe('json patch (RFC 6902)', () => {
  it('applies add, replace, remove, test and appends with -', () => {
    const original = pod();
    const out = applyPatch(JSON_PATCH, original, JSON.stringify([
      { op: 'test', path: '/metadata/labels/app', value: 'web' },
      { op: 'add', path: '/metadata/labels/new', value: 'yes' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' },
      { op: 'remove', path: '/metadata/labels/tier' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'e', image: 'e' } },
    ]), pods, {});
    expect(out.metadata.labels).toEqual({ app: 'web', new: 'yes' });
    expect(spec(out)['containers'][0].image).toBe('nginx:2');
    expect(spec(out)['containers'].map((c: { name: string }) => c.name)).toEqual(['c', 'd', 'e']);
    // The input is never modified.
    expect(original.metadata.labels).toEqual({ app: 'web', tier: 'front' });
  });

  it('answers 422 for a failed test or a missing path, 400 for a malformed document', () => {
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"test","path":"/metadata/labels/app","value":"db"}]', pods, {}), 422);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"remove","path":"/spec/nothing"}]', pods, {}), 422);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"replace","path":"/spec/nothing/deeper","value":1}]', pods, {}), 422);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '{"op":"add"}', pods, {}), 400);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"frobnicate","path":"/a"}]', pods, {}), 400);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"add","path":"/a"}]', pods, {}), 400);
    expectApiError(() => applyPatch(JSON_PATCH, pod(), 'not json', pods, {}), 400);
  });

  it('refuses a patch that replaces the whole document with a non-object', () => {
    expectApiError(() => applyPatch(JSON_PATCH, pod(), '[{"op":"replace","path":"","value":3}]', pods, {}), 422);
  });
});

describe('merge patch (RFC 7386)', () => {
  it('merges maps, deletes with null and replaces arrays whole', () => {
    const out = applyPatch(MERGE, pod(), JSON.stringify({
      metadata: { labels: { tier: null, new: 'n' } },
      spec: { containers: [{ name: 'only', image: 'x' }] },
    }), pods, {});
    expect(out.metadata.labels).toEqual({ app: 'web', new: 'n' });
    expect(spec(out)['containers']).toEqual([{ name: 'only', image: 'x' }]);
    expect(spec(out)['volumes']).toEqual([{ name: 'v', emptyDir: {} }]);
  });

  it('accepts a Content-Type with parameters', () => {
    const out = applyPatch('application/merge-patch+json; charset=utf-8', pod(), '{"metadata":{"annotations":{"a":"b"}}}', pods, {});
    expect(out.metadata.annotations).toEqual({ a: 'b' });
  });

  it('rejects a non-object document with 400', () => {
    expectApiError(() => applyPatch(MERGE, pod(), '[1]', pods, {}), 400);
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name, env by name and ports by containerPort', () => {
    const out = applyPatch(SMP, pod(), JSON.stringify({
      spec: { containers: [
        { name: 'c', image: 'nginx:2', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }], ports: [{ containerPort: 443 }] },
        { name: 'new', image: 'alpine' },
      ] },
    }), pods, {});
    const containers = spec(out)['containers'];
    expect(containers.map((c: { name: string }) => c.name)).toEqual(['c', 'd', 'new']);
    expect(containers[0].image).toBe('nginx:2');
    expect(containers[0].env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
    expect(containers[0].ports).toEqual([{ containerPort: 80 }, { containerPort: 443 }]);
    expect(containers[1]).toEqual({ name: 'd', image: 'busybox', command: ['sleep', '1'] });
  });

  it('replaces atomic lists (command, tolerations)', () => {
    const out = applyPatch(SMP, pod(), JSON.stringify({
      spec: { containers: [{ name: 'd', command: ['true'] }], tolerations: [{ key: 'other', operator: 'Exists' }] },
    }), pods, {});
    expect(spec(out)['containers'][1].command).toEqual(['true']);
    expect(spec(out)['tolerations']).toEqual([{ key: 'other', operator: 'Exists' }]);
  });

  it('applies the observed kubectl apply patch: env:null in a keyed element, $setElementOrder, appended container', () => {
    const out = applyPatch(SMP, deployment(), JSON.stringify({
      spec: { template: { spec: {
        '$setElementOrder/containers': [{ name: 'c' }, { name: 'side' }],
        containers: [{ env: null, name: 'c', ports: [{ containerPort: 80 }] }, { image: 'busybox', name: 'side' }],
      } } },
    }), deployments, {});
    const containers = spec(out)['template'].spec.containers;
    expect(containers).toEqual([{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }, { image: 'busybox', name: 'side' }]);
    expect(JSON.stringify(out)).not.toContain('$');
  });

  it('$setElementOrder reorders merged elements', () => {
    const out = applyPatch(SMP, pod(), JSON.stringify({
      spec: { '$setElementOrder/containers': [{ name: 'd' }, { name: 'c' }], containers: [{ name: 'c', image: 'z' }] },
    }), pods, {});
    expect(spec(out)['containers'].map((c: { name: string }) => c.name)).toEqual(['d', 'c']);
  });

  it('$patch: delete removes a keyed element; $patch: replace replaces a list or a map', () => {
    const deleted = applyPatch(SMP, pod(), JSON.stringify({ spec: { containers: [{ name: 'd', $patch: 'delete' }] } }), pods, {});
    expect(spec(deleted)['containers'].map((c: { name: string }) => c.name)).toEqual(['c']);

    const replacedList = applyPatch(SMP, pod(), JSON.stringify({ spec: { containers: [{ name: 'z', image: 'z' }, { $patch: 'replace' }] } }), pods, {});
    expect(spec(replacedList)['containers']).toEqual([{ name: 'z', image: 'z' }]);

    const replacedMap = applyPatch(SMP, pod(), JSON.stringify({ metadata: { labels: { only: 'this', $patch: 'replace' } } }), pods, {});
    expect(replacedMap.metadata.labels).toEqual({ only: 'this' });

    const deletedMap = applyPatch(SMP, pod(), JSON.stringify({ metadata: { labels: { $patch: 'delete' } } }), pods, {});
    expect(deletedMap.metadata.labels).toBeUndefined();
  });

  it('$retainKeys keeps only the listed keys of deployment.spec.strategy before merging', () => {
    const out = applyPatch(SMP, deployment(), JSON.stringify({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }), deployments, {});
    expect(spec(out)['strategy']).toEqual({ type: 'Recreate' });
  });

  it('unions finalizers and removes with $deleteFromPrimitiveList', () => {
    const added = applyPatch(SMP, pod(), JSON.stringify({ metadata: { finalizers: ['a/x', 'b/y'] } }), pods, {});
    expect(added.metadata.finalizers).toEqual(['a/x', 'b/y']);
    const removed = applyPatch(SMP, added, JSON.stringify({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a/x'] } }), pods, {});
    expect(removed.metadata.finalizers).toEqual(['b/y']);
  });

  it('merges service ports by port', () => {
    const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = applyPatch(SMP, svc, JSON.stringify({ spec: { ports: [{ port: 80, targetPort: 9090 }] } }), services, {});
    expect(spec(out)['ports']).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
  });

  it('behaves as a merge patch for kinds without list strategies', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const out = applyPatch(SMP, cm, JSON.stringify({ data: { a: null, c: '3' } }), configmaps, {});
    expect(out['data']).toEqual({ b: '2', c: '3' });
  });

  it('rejects an unknown $patch value with 422 and a non-object document with 400', () => {
    expectApiError(() => applyPatch(SMP, pod(), JSON.stringify({ metadata: { labels: { $patch: 'explode' } } }), pods, {}), 422);
    expectApiError(() => applyPatch(SMP, pod(), '"x"', pods, {}), 400);
  });
});

describe('server-side apply (simplified)', () => {
  it('merges the applied intent with SMP list semantics and records the manager', () => {
    const body = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: {team: a}\nspec:\n  replicas: 5\n'
      + '  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx:2\n';
    const out = applyPatch(APPLY, deployment(), body, deployments, { fieldManager: 'kubectl', now: '2026-01-01T00:00:00Z' });
    expect(spec(out)['replicas']).toBe(5);
    expect(spec(out)['template'].spec.containers).toEqual([{ name: 'c', image: 'nginx:2', env: [{ name: 'X', value: 'y' }] }]);
    expect(out.metadata.labels).toEqual({ team: 'a' });
    const managed = out.metadata.managedFields as Record<string, any>[];
    expect(managed).toHaveLength(1);
    expect(managed[0]).toMatchObject({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1' });
    expect(managed[0]!['fieldsV1']['f:spec']['f:replicas']).toEqual({});
    expect(Object.keys(managed[0]!['fieldsV1']['f:spec']['f:template']['f:spec']['f:containers'])).toEqual(['k:{"name":"c"}']);

    // A second apply by the same manager replaces its entry instead of adding one.
    const again = applyPatch(APPLY, out, body, deployments, { fieldManager: 'kubectl' });
    expect(again.metadata.managedFields).toHaveLength(1);
  });

  it('creates from a skeleton when the object is absent', () => {
    const out = applyPatch(APPLY, skeletonFor(configmaps, 'ns1', 'cm'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"k":"v"}}', configmaps, { fieldManager: 'm' });
    expect(out).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns1' }, data: { k: 'v' } });
  });

  it('applies to a subresource object of another kind (a Scale)', () => {
    const scale: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd' }, spec: { replicas: 1 } };
    const out = applyPatch(APPLY, scale, '{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":4}}', deployments, { fieldManager: 'm' });
    expect(spec(out)['replicas']).toBe(4);
  });

  it('requires fieldManager, a kind matching the target, and parsable YAML', () => {
    const e = expectApiError(() => applyPatch(APPLY, pod(), '{"apiVersion":"v1","kind":"Pod"}', pods, {}), 422);
    expect(e.message).toContain('fieldManager');
    expectApiError(() => applyPatch(APPLY, pod(), '{"apiVersion":"v1","kind":"Service"}', pods, { fieldManager: 'm' }), 400);
    expectApiError(() => applyPatch(APPLY, pod(), 'a: [b', pods, { fieldManager: 'm' }), 400);
    expectApiError(() => applyPatch(APPLY, pod(), '- 1', pods, { fieldManager: 'm' }), 400);
  });
});

describe('content types and options', () => {
  it('answers 415 for unknown patch types and 422 for force on a non-apply patch', () => {
    const e = expectApiError(() => applyPatch('application/json', pod(), '{}', pods, {}), 415);
    expect(e.reason).toBe('UnsupportedMediaType');
    expectApiError(() => applyPatch(MERGE, pod(), '{}', pods, { force: true }), 422);
  });
});
