/**
 * Discovery documents (K8S-API.md §1): `/version`, legacy `/api`, `/apis`, `/apis/<g>`, the
 * per-group-version APIResourceLists, aggregated v2 discovery, and a minimal OpenAPI v3 stub. All
 * are derived from the one resource table, so kubectl's short names, categories and verbs cannot
 * drift from what the router serves.
 *
 * Decision: the OpenAPI v3 documents are the §1.5 stub — one path per kind whose PATCH declares
 * `fieldValidation` — which is exactly what `kubectl create -f` / `apply -f` at the default
 * `--validate=strict` check. `/openapi/v2` is 404 (kubectl only asks for protobuf there and tolerates it).
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, servedApiGroups, servedResources, type ResourceInfo } from './registry/resources.js';

export const serverVersion = {
  major: '1', minor: '32', gitVersion: 'v1.32.0-kubus', gitCommit: 'kubus', gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z', goVersion: 'node', compiler: 'tsc', platform: 'linux/amd64',
} as const;

export const aggregatedDiscoveryMediaType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface SubresourceShape { readonly group: string; readonly version: string; readonly kind: string; readonly verbs: readonly string[] }

/** What each subresource answers with; Kubernetes puts eviction in policy/v1 and scale in autoscaling/v1. */
function subresourceShape(info: ResourceInfo, subresource: string): SubresourceShape {
  const own = { group: info.group, version: info.version };
  switch (subresource) {
    case 'scale': return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'eviction': return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'binding': return { ...own, kind: 'Binding', verbs: ['create'] };
    case 'token': return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    case 'log': return { ...own, kind: info.kind, verbs: ['get'] };
    // The streaming verbs, as Kubernetes lists them (GET is the WebSocket upgrade, POST the SPDY one).
    case 'exec': return { ...own, kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach': return { ...own, kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward': return { ...own, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'finalize': return { ...own, kind: info.kind, verbs: ['update'] };
    default: return { ...own, kind: info.kind, verbs: ['get', 'patch', 'update'] };
  }
}

function inGroupVersion(group: string, version: string): ResourceInfo[] {
  return servedResources.filter((r) => r.group === group && r.version === version);
}

export function legacyApiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(group: { group: string; versions: string[]; preferredVersion: string }): object {
  const gv = (version: string): object => ({ groupVersion: `${group.group}/${version}`, version });
  return { name: group.group, versions: group.versions.map(gv), preferredVersion: gv(group.preferredVersion) };
}

export function legacyGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedApiGroups().filter((g) => g.group !== '').map(groupEntry) };
}

/** `/apis/<group>`; undefined for an unknown group (404). */
export function legacyGroup(group: string): object | undefined {
  const found = servedApiGroups().find((g) => g.group === group && group !== '');
  return found === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(found) };
}

/** `/api/v1` or `/apis/<g>/<v>`; main resources come before their subresources (client-node takes the first kind match). */
export function resourceList(group: string, version: string): object | undefined {
  const served = inGroupVersion(group, version);
  if (served.length === 0) return undefined;
  const entries: object[] = [];
  for (const info of served) {
    entries.push({
      name: info.resource, singularName: info.singular, namespaced: info.namespaced, kind: info.kind, verbs: info.verbs,
      ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length > 0 ? { categories: info.categories } : {}),
    });
  }
  for (const info of served) {
    for (const sub of info.subresources) {
      const shape = subresourceShape(info, sub);
      const foreign = shape.group !== group || shape.version !== version;
      entries.push({
        name: `${info.resource}/${sub}`, singularName: '', namespaced: info.namespaced, kind: shape.kind, verbs: shape.verbs,
        ...(foreign ? { group: shape.group, version: shape.version } : {}),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: entries };
}

function discoveryResource(info: ResourceInfo): object {
  return {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: info.singular,
    verbs: info.verbs,
    ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length > 0 ? { categories: info.categories } : {}),
    ...(info.subresources.length > 0 ? {
      subresources: info.subresources.map((sub) => {
        const shape = subresourceShape(info, sub);
        return { subresource: sub, responseKind: { group: shape.group, version: shape.version, kind: shape.kind }, verbs: shape.verbs };
      }),
    } : {}),
  };
}

/** Aggregated discovery: `/api` (core only) or `/apis` (every named group); preferred version first. */
export function aggregatedDiscovery(core: boolean): object {
  const groups = servedApiGroups().filter((g) => (g.group === '') === core);
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group },
      versions: g.versions.map((version) => ({
        version, freshness: 'Current', resources: inGroupVersion(g.group, version).map(discoveryResource),
      })),
    })),
  };
}

/** True when the Accept header offers aggregated discovery v2. */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /as=APIGroupDiscoveryList/.test(part) && /v=v2(;|\s|$)/.test(part) && /g=apidiscovery\.k8s\.io/.test(part));
}

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** The §1.5 stub for one group-version: a PATCH declaring `fieldValidation` per kind. */
export function openapiDocument(group: string, version: string): object | undefined {
  const served = inGroupVersion(group, version);
  if (served.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const info of served) {
    const prefix = `/${gvPath(group, version)}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}`;
    const gvk = { group, version, kind: info.kind };
    const parameter = (name: string): object => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
    paths[`${prefix}/{name}`] = {
      get: { operationId: `read${info.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK' } } },
      patch: {
        operationId: `patch${info.kind}`, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk,
        parameters: [parameter('dryRun'), parameter('fieldManager'), parameter('fieldValidation'), parameter('force')],
        responses: { '200': { description: 'OK' } },
      },
    };
    paths[prefix] = {
      post: {
        operationId: `create${info.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk,
        parameters: [parameter('dryRun'), parameter('fieldManager'), parameter('fieldValidation')], responses: { '201': { description: 'Created' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: serverVersion.gitVersion }, paths, components: { schemas: {} } };
}

/** `/openapi/v3`: every group-version with a content hash, which kubectl uses as its cache key. */
export function openapiRoot(): object {
  const paths: Record<string, object> = {};
  for (const g of servedApiGroups()) {
    for (const version of g.versions) {
      const hash = createHash('sha256').update(JSON.stringify(openapiDocument(g.group, version))).digest('hex').slice(0, 32).toUpperCase();
      paths[gvPath(g.group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(g.group, version)}?hash=${hash}` };
    }
  }
  return { paths };
}
