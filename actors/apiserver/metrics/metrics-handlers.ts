/**
 * GET `/apis/metrics.k8s.io/v1beta1/nodes[/N]`, `/pods` and `/namespaces/NS/pods[/P]`, after
 * authentication, like every request, and RBAC on the metrics.k8s.io resource (`gate`).
 *
 * Decision: a PodMetrics carries its pod's labels, and only pods that exist (with the uid the
 * agent measured) are served: the handler reads the pods from the store (a serializable read, as
 * a `resourceVersion=0` list is) with the request's selectors and joins them with the view. The
 * reports stay small and the store's selector code decides what matches. NodeMetrics likewise take
 * their Node's labels. The store read is the server's own, not the caller's: reading metrics does
 * not need `list pods`, as with metrics-server.
 */
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { parseObjectSelector } from '../registry/selectors.js';
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { RequestContext } from '../http/context.js';
import { isWatch } from '../http/dispatch.js';
import { queryString, sendJson, wantsTable } from '../http/io.js';
import { gate, includeObject } from '../http/resource-handlers.js';
import { notFoundPath } from '../http/route.js';
import { metricsList, nodeMetricsObject, podMetricsObject } from './metrics-shapes.js';
import { metricsTable } from './metrics-table.js';
import type { MetricsSource } from './metrics-view.js';
import { metricsGroup } from './resources.js';

const corePods = findResource('', 'v1', 'pods') as ResourceInfo;
const coreNodes = findResource('', 'v1', 'nodes') as ResourceInfo;

/** `source` null: this server was started without a metrics view (a bare API server in tests): 503. */
export async function serveMetrics(ctx: RequestContext, source: MetricsSource | null): Promise<void> {
  const { info, namespace, name, subresource } = ctx.route;
  if (subresource !== null) throw notFoundPath();
  if (info.namespaced && namespace === null && name !== null) throw apiErrors.notFound(info.resource, metricsGroup, name);
  const method = ctx.req.method ?? 'GET';
  const verb = method === 'GET' || method === 'HEAD' ? (isWatch(method, ctx.query) ? 'watch' : name === null ? 'list' : 'get') : null;
  if (verb === null) throw apiErrors.methodNotAllowed(`the server does not allow this method on the requested resource: ${method} ${info.resource}.${metricsGroup}`);
  await gate(ctx, verb);
  if (source === null) throw apiErrors.unavailable('the metrics API is not served by this API server (no metrics view)');
  const nowMs = ctx.server.wallClock().getTime();
  const nodes = info.resource === 'nodes';
  // A list answers its items; a get one object. `kubectl get` asks for a Table of either.
  const items = name === null
    ? (nodes ? await listNodes(ctx, source, nowMs) : await listPods(ctx, source, namespace, nowMs))
    : [nodes ? await getNode(ctx, source, name, nowMs) : await getPod(ctx, source, namespace ?? '', name, nowMs)];
  if (wantsTable(ctx.req)) sendJson(ctx.res, 200, metricsTable(items, includeObject(ctx.query)));
  else sendJson(ctx.res, 200, name === null ? metricsList(nodes ? 'NodeMetricsList' : 'PodMetricsList', items) : items[0]);
}

/** The request's selectors, checked against what a metrics object offers (labels, metadata.name/namespace): a 400 for anything else. */
function selectors(ctx: RequestContext, resource: string): { labelSelector?: string; fieldSelector?: string } {
  const labelSelector = queryString(ctx.query, 'labelSelector');
  const fieldSelector = queryString(ctx.query, 'fieldSelector');
  parseObjectSelector({ resource }, { labelSelector, fieldSelector });
  return { ...(labelSelector !== undefined ? { labelSelector } : {}), ...(fieldSelector !== undefined ? { fieldSelector } : {}) };
}

async function listNodes(ctx: RequestContext, source: MetricsSource, nowMs: number): Promise<KubeObject[]> {
  const nodes = await ctx.server.objects.list(coreNodes, null, { ...selectors(ctx, 'nodemetrics'), resourceVersion: '0' });
  const items: KubeObject[] = [];
  for (const node of nodes.items) {
    const report = source.node(node.metadata.name ?? '');
    if (report !== undefined) items.push(nodeMetricsObject(report, node, nowMs));
  }
  return items;
}

async function getNode(ctx: RequestContext, source: MetricsSource, name: string, nowMs: number): Promise<KubeObject> {
  const report = source.node(name);
  if (report === undefined) throw apiErrors.notFound('nodemetrics', metricsGroup, name);
  const node = await ctx.server.objects.get(coreNodes, null, name).catch(() => undefined);
  if (node === undefined) throw apiErrors.notFound('nodemetrics', metricsGroup, name);
  return nodeMetricsObject(report, node, nowMs);
}

async function listPods(ctx: RequestContext, source: MetricsSource, namespace: string | null, nowMs: number): Promise<KubeObject[]> {
  const pods = await ctx.server.objects.list(corePods, namespace, { ...selectors(ctx, 'podmetrics'), resourceVersion: '0' });
  const items: KubeObject[] = [];
  for (const pod of pods.items) {
    const sample = source.pod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    if (sample !== undefined && sample.pod.uid === pod.metadata.uid) items.push(podMetricsObject(sample, pod, nowMs));
  }
  return items;
}

async function getPod(ctx: RequestContext, source: MetricsSource, namespace: string, name: string, nowMs: number): Promise<KubeObject> {
  // metrics-server names a missing PodMetrics `namespace/name`.
  const missing = () => apiErrors.notFound('podmetrics', metricsGroup, `${namespace}/${name}`);
  const sample = source.pod(namespace, name);
  if (sample === undefined) throw missing();
  const pod = await ctx.server.objects.get(corePods, namespace, name).catch(() => undefined);
  if (pod === undefined || pod.metadata.uid !== sample.pod.uid) throw missing();
  return podMetricsObject(sample, pod, nowMs);
}
