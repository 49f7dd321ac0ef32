/**
 * URL → route. Kubernetes paths (K8S-API.md §2.1): `/api/v1/...` for the core group,
 * `/apis/<group>/<version>/...` otherwise; namespaced resources under `namespaces/<ns>/`, and a
 * collection without a namespace segment is the cross-namespace list (`kubectl get pods -A`).
 *
 * Decision: `/api/v1/namespaces/<x>/<y>` is a namespaced collection when `<y>` is a namespaced
 * resource of that group-version, else a subresource of namespace `<x>` (`status`, `finalize`),
 * which is how the real router disambiguates.
 */
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { ApiError } from '../status.js';

export type Route =
  | { readonly type: 'health'; readonly check: 'healthz' | 'livez' | 'readyz' }
  | { readonly type: 'version' }
  | { readonly type: 'api' }
  | { readonly type: 'apis' }
  | { readonly type: 'group'; readonly group: string }
  | { readonly type: 'groupVersion'; readonly group: string; readonly version: string }
  | { readonly type: 'openapiV2' }
  | { readonly type: 'openapiV3Root' }
  | { readonly type: 'openapiV3'; readonly group: string; readonly version: string }
  | ResourceRoute;

export interface ResourceRoute {
  readonly type: 'resource';
  readonly info: ResourceInfo;
  /** The URL's namespace; null for cluster-scoped resources and cross-namespace lists. */
  readonly namespace: string | null;
  /** Null for the collection. */
  readonly name: string | null;
  readonly subresource: string | null;
}

/**
 * kube-apiserver's answer for a path it does not serve: its Status carries an empty `details`
 * object, and kubectl dereferences it (`kubectl debug` tells a missing `ephemeralcontainers`
 * subresource from a missing pod by `details.name == ""`; without `details` kubectl 1.32 panics).
 */
export const notFoundPath = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export function parseRoute(pathname: string): Route {
  const segments = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const [first, second, third, fourth] = segments;
  if (first === 'healthz' || first === 'livez' || first === 'readyz') return { type: 'health', check: first };
  if (first === 'version' && segments.length === 1) return { type: 'version' };
  if (first === 'openapi') return openapiRoute(segments.slice(1));
  if (first === 'api') {
    if (second === undefined) return { type: 'api' };
    if (second !== 'v1') throw notFoundPath();
    if (third === undefined) return { type: 'groupVersion', group: '', version: 'v1' };
    return resourceRoute('', 'v1', segments.slice(2));
  }
  if (first === 'apis') {
    if (second === undefined) return { type: 'apis' };
    if (third === undefined) return { type: 'group', group: second };
    if (fourth === undefined) return { type: 'groupVersion', group: second, version: third };
    return resourceRoute(second, third, segments.slice(3));
  }
  throw notFoundPath();
}

function openapiRoute(rest: readonly string[]): Route {
  if (rest[0] === 'v2' && rest.length === 1) return { type: 'openapiV2' };
  if (rest[0] !== 'v3') throw notFoundPath();
  if (rest.length === 1) return { type: 'openapiV3Root' };
  if (rest[1] === 'api' && rest[2] === 'v1' && rest.length === 3) return { type: 'openapiV3', group: '', version: 'v1' };
  if (rest[1] === 'apis' && rest[2] !== undefined && rest[3] !== undefined && rest.length === 4) {
    return { type: 'openapiV3', group: rest[2], version: rest[3] };
  }
  throw notFoundPath();
}

function resourceRoute(group: string, version: string, rest: readonly string[]): ResourceRoute {
  const [a, b, c, d, e] = rest;
  if (a === undefined) throw notFoundPath();
  if (a === 'namespaces' && b !== undefined && c !== undefined) {
    const inner = findResource(group, version, c);
    if (inner !== undefined && inner.namespaced) {
      if (rest.length > 5) throw notFoundPath();
      return checked({ type: 'resource', info: inner, namespace: b, name: d ?? null, subresource: e ?? null });
    }
  }
  const info = findResource(group, version, a);
  if (info === undefined || rest.length > 3) throw notFoundPath();
  return checked({ type: 'resource', info, namespace: null, name: b ?? null, subresource: c ?? null });
}

/**
 * Subresources kubus serves beyond Kubernetes' (not in discovery: no Kubernetes client asks for
 * them): `nodes/<name>/credentials`, a joined node's bus user and API token (node-credentials.ts).
 */
const kubusSubresources: Readonly<Record<string, readonly string[]>> = { '/nodes': ['credentials'] };

function checked(route: ResourceRoute): ResourceRoute {
  const extra = kubusSubresources[`${route.info.group}/${route.info.resource}`] ?? [];
  if (route.subresource !== null && !route.info.subresources.includes(route.subresource) && !extra.includes(route.subresource)) throw notFoundPath();
  if (route.name === '') throw notFoundPath();
  return route;
}
