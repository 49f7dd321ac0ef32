/**
 * URL routing and discovery documents, without a server: the path forms of K8S-API.md §2.1 map to
 * the right resource, namespace, name and subresource; unknown paths are 404s; discovery lists main
 * resources before subresources and advertises eviction in policy/v1 and scale in autoscaling/v1.
 */
import { describe, expect, it } from 'vitest';
import { aggregatedDiscovery, openapiDocument, openapiRoot, resourceList, wantsAggregated } from '../../actors/apiserver/discovery.js';
import { parseRoute } from '../../actors/apiserver/http/route.js';
import { ApiError } from '../../actors/apiserver/status.js';

const resource = (path: string) => {
  const route = parseRoute(path);
  if (route.type !== 'resource') throw new Error(`not a resource route: ${route.type}`);
  return { resource: route.info.resource, group: route.info.group, namespace: route.namespace, name: route.name, subresource: route.subresource };
};

describe('parseRoute', () => {
  it('maps collection, object and subresource paths', () => {
    expect(resource('/api/v1/namespaces/default/pods')).toEqual({ resource: 'pods', group: '', namespace: 'default', name: null, subresource: null });
    expect(resource('/api/v1/pods')).toEqual({ resource: 'pods', group: '', namespace: null, name: null, subresource: null });
    expect(resource('/apis/apps/v1/namespaces/ns1/deployments/d1/scale'))
      .toEqual({ resource: 'deployments', group: 'apps', namespace: 'ns1', name: 'd1', subresource: 'scale' });
    expect(resource('/api/v1/namespaces/ns1')).toEqual({ resource: 'namespaces', group: '', namespace: null, name: 'ns1', subresource: null });
    expect(resource('/api/v1/namespaces/ns1/status')).toEqual({ resource: 'namespaces', group: '', namespace: null, name: 'ns1', subresource: 'status' });
    expect(resource('/api/v1/nodes/n1/status')).toEqual({ resource: 'nodes', group: '', namespace: null, name: 'n1', subresource: 'status' });
  });

  it('routes discovery, health and openapi paths', () => {
    expect(parseRoute('/version').type).toBe('version');
    expect(parseRoute('/readyz').type).toBe('health');
    expect(parseRoute('/apis/apps').type).toBe('group');
    expect(parseRoute('/api/v1')).toEqual({ type: 'groupVersion', group: '', version: 'v1' });
    expect(parseRoute('/openapi/v3/apis/apps/v1')).toEqual({ type: 'openapiV3', group: 'apps', version: 'v1' });
  });

  it('answers unknown resources, versions and subresources with 404', () => {
    for (const path of ['/api/v2/pods', '/api/v1/widgets', '/apis/apps/v9/deployments', '/api/v1/namespaces/default/pods/p1/exec/extra', '/api/v1/namespaces/default/services/s1/exec',
      '/api/v1/namespaces/default/pods/p1/status/extra', '/nothing', '/api/v1/namespaces/default/nodes/n1']) {
      expect(() => parseRoute(path), path).toThrow(ApiError);
    }
  });
});

describe('discovery', () => {
  it('lists main resources before subresources, with foreign kinds for eviction and scale', () => {
    const core = resourceList('', 'v1') as { resources: { name: string; group?: string; version?: string; kind: string }[] };
    const names = core.resources.map((r) => r.name);
    expect(names.indexOf('pods')).toBeLessThan(names.indexOf('pods/status'));
    expect(core.resources.find((r) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction' });
    const apps = resourceList('apps', 'v1') as { resources: { name: string; group?: string; kind: string }[] };
    expect(apps.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', kind: 'Scale' });
    expect(resourceList('apps', 'v9')).toBeUndefined();
  });

  it('gives every aggregated resource a responseKind and puts core only under /api', () => {
    const core = aggregatedDiscovery(true) as { items: { metadata: { name: string } }[] };
    expect(core.items.map((i) => i.metadata.name)).toEqual(['']);
    const named = aggregatedDiscovery(false) as { items: { metadata: { name: string }; versions: { version: string; resources: { responseKind?: unknown }[] }[] }[] };
    expect(named.items.map((i) => i.metadata.name)).not.toContain('');
    const autoscaling = named.items.find((i) => i.metadata.name === 'autoscaling');
    expect(autoscaling?.versions.map((v) => v.version)).toEqual(['v2', 'v1']);
    for (const item of named.items) for (const v of item.versions) for (const r of v.resources) expect(r.responseKind).toBeDefined();
  });

  it('recognises the aggregated Accept header only for v2', () => {
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json')).toBe(true);
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe(false);
    expect(wantsAggregated('application/json')).toBe(false);
    expect(wantsAggregated(undefined)).toBe(false);
  });

  it('declares fieldValidation on every kind\'s PATCH in the OpenAPI stub, under a hashed URL', () => {
    const root = openapiRoot() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(root.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/autoscaling/v1', 'apis/autoscaling/v2']));
    const doc = openapiDocument('apps', 'v1') as { paths: Record<string, { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown } }> };
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch?.parameters.map((p) => p.name)).toContain('fieldValidation');
  });
});
