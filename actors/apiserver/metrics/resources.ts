/**
 * The `metrics.k8s.io/v1beta1` resources (metrics-server's API, which `kubectl top` and the
 * horizontal pod autoscaler read): NodeMetrics (cluster-scoped) and PodMetrics (namespaced), get
 * and list only. They are served from the members' in-memory view of the agents' reports
 * (metrics-view.ts), never stored, so they stay out of the registry's stored `resources`; routing
 * and discovery see them through `servedResources`.
 *
 * Decision: served by the API server itself instead of an aggregated APIService: kubus has no
 * aggregation layer, and every member already hears every agent's report on the bus.
 */
import type { ResourceInfo } from '../registry/resources.js';

export const metricsGroup = 'metrics.k8s.io';
export const metricsVersion = 'v1beta1';
export const metricsApiVersion = `${metricsGroup}/${metricsVersion}`;

/** What metrics-server registers (`kubectl api-resources` shows the same): get and list, no short names. */
const metricsVerbs = ['get', 'list'] as const;

export const metricsResources: readonly ResourceInfo[] = Object.freeze([
  {
    group: metricsGroup, version: metricsVersion, resource: 'nodes', singular: '', kind: 'NodeMetrics', listKind: 'NodeMetricsList',
    namespaced: false, shortNames: [], categories: [], verbs: metricsVerbs, subresources: [],
  },
  {
    group: metricsGroup, version: metricsVersion, resource: 'pods', singular: '', kind: 'PodMetrics', listKind: 'PodMetricsList',
    namespaced: true, shortNames: [], categories: [], verbs: metricsVerbs, subresources: [],
  },
]);

/** True for a route the metrics handlers answer (metrics-handlers.ts), not the object store. */
export function isMetricsResource(info: Pick<ResourceInfo, 'group'>): boolean {
  return info.group === metricsGroup;
}
