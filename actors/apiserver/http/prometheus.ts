/**
 * Prometheus on a member's API port (issue 13): every request counted and timed by verb, group,
 * version, resource, subresource, scope and code, as kube-apiserver labels them
 * (apiserver_request_total / apiserver_request_duration_seconds); open watches as
 * apiserver_longrunning_requests; and `GET /metrics`, authenticated and authorized like
 * Kubernetes' non-resource URL (`nonResourceURLs: ["/metrics"]`, verb get; cluster-admin and
 * `system:monitoring` hold it).
 *
 * Decision: the labels come from the URL alone (a pure function), before any handler runs, so a
 * request refused early (401, 403, 429) is counted under the resource it asked for; a path that
 * is not an API route gets empty resource labels, which keeps the label set bounded by the
 * registered resources whatever clients send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../bus/index.js';
import type { ApiLatencyLabel, ApiMetrics, Telemetry } from '../../../bus/telemetry/index.js';
import { ClusterAuthorizer, forbiddenError } from '../authz/index.js';
import type { UserInfo } from '../types.js';
import type { Authorizer } from './admission.js';
import { isWatch } from './dispatch.js';
import { parseRoute } from './route.js';

/** The path Kubernetes serves metrics on, and the non-resource URL RBAC rules name. */
export const metricsPath = '/metrics';

export type RequestLabels = Record<ApiLatencyLabel, string>;

/** The request's labels as kube-apiserver reports them (verb in upper case: LIST, WATCH, GET, POST, PUT, PATCH, DELETE, CONNECT). */
export function requestLabels(method: string, url: URL): RequestLabels {
  const empty: RequestLabels = { verb: method, group: '', version: '', resource: '', subresource: '', scope: '' };
  let route;
  try {
    route = parseRoute(url.pathname);
  } catch {
    return empty;
  }
  if (route.type !== 'resource') return empty;
  const { info, namespace, name, subresource } = route;
  const scope = name !== null ? 'resource' : namespace !== null ? 'namespace' : 'cluster';
  return { verb: kubernetesVerb(method, url, name !== null, subresource), group: info.group, version: info.version, resource: info.resource, subresource: subresource ?? '', scope };
}

function kubernetesVerb(method: string, url: URL, named: boolean, subresource: string | null): string {
  if (isWatch(method, url.searchParams)) return 'WATCH';
  // Streaming subresources are CONNECT in Kubernetes' accounting (pods/log is a GET).
  if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward' || subresource === 'proxy') return 'CONNECT';
  if (method === 'GET' && !named) return 'LIST';
  if (method === 'DELETE' && !named) return 'DELETECOLLECTION';
  return method;
}

/**
 * Counts and times one request: call it first thing; it records when the response closes
 * (finished or abandoned). A watch is counted in the long-running gauge while open and in the
 * request counter when it ends, never in the latency histogram (its duration is the client's).
 */
export function observeApiRequest(metrics: ApiMetrics, req: IncomingMessage, res: ServerResponse, clock: Clock): void {
  const startedMs = clock.now();
  const labels = requestLabels(req.method ?? 'GET', new URL(req.url ?? '/', 'https://kubus.invalid'));
  const longRunning = labels.verb === 'WATCH' || labels.verb === 'CONNECT';
  if (longRunning) metrics.longRunning.inc(labels);
  res.once('close', () => {
    if (longRunning) metrics.longRunning.dec(labels);
    // A response closed before any header went out was abandoned by the client: 0, as a dropped connection.
    const code = res.headersSent ? String(res.statusCode) : '0';
    metrics.requests.inc({ ...labels, code });
    if (!longRunning) metrics.requestDuration.observe(labels, (clock.now() - startedMs) / 1000);
  });
}

/**
 * `GET /metrics` for an authenticated caller: RBAC's non-resource check when the server runs RBAC
 * (the default allow-all authorizer of a bare API server lets every authenticated caller in).
 */
export async function serveMetrics(ctx: {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly user: UserInfo;
  readonly authorizer: Authorizer;
  readonly telemetry: Telemetry;
}): Promise<void> {
  const { req, res, user, authorizer } = ctx;
  const verb = req.method === 'HEAD' ? 'get' : (req.method ?? 'GET').toLowerCase();
  const attributes = { resourceRequest: false as const, verb, path: metricsPath };
  if (authorizer instanceof ClusterAuthorizer && !authorizer.allows(user, attributes)) throw forbiddenError(user, attributes);
  if (verb !== 'get') {
    res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }).end('GET /metrics\n');
    return;
  }
  const { contentType, body } = await ctx.telemetry.scrape();
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
