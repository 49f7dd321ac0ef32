/**
 * The member side of Prometheus without a cluster (issue 13): `observeApiRequest` on a plain
 * node:http server counts each request when its response closes, under kube-apiserver's labels and
 * the response code, times it, and keeps a watch in the long-running gauge only while it is open;
 * `serveMetrics` answers the registry's text to a caller RBAC lets `get` the non-resource URL
 * `/metrics` (Kubernetes' default `system:monitoring` role, cluster-admin) and a 403 in Kubernetes'
 * words to anyone else.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../bus/index.js';
import { createMemberTelemetry, type MemberTelemetry } from '../../bus/telemetry/index.js';
import { observeApiRequest, serveMetrics } from '../../actors/apiserver/http/prometheus.js';
import { ClusterAuthorizer, NodeGraph, RbacPolicy, defaultClusterRoleBindings, defaultClusterRoles, staticPolicySource } from '../../actors/apiserver/authz/index.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { UserInfo } from '../../actors/apiserver/types.js';

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server?.closeAllConnections();
  server = null;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function value(telemetry: MemberTelemetry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = telemetry.registry.getSingleMetric(name);
  const values = ((await metric?.get())?.values ?? []) as { labels: Record<string, unknown>; value: number; metricName?: string }[];
  return values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want) && (v.metricName === undefined || v.metricName === name || v.metricName.endsWith('_count')))?.value;
}

describe('API request metrics', () => {
  it('counts by verb, resource and code at close, times non-watch requests, and gauges open watches', async () => {
    const telemetry = createMemberTelemetry({ processMetrics: false });
    let watchResponse: { end(): void } | null = null;
    const base = await listen((req, res) => {
      observeApiRequest(telemetry.api, req, res, new SystemClock());
      if (req.url?.includes('watch=true')) {
        res.writeHead(200).flushHeaders();
        watchResponse = res;
        return;
      }
      res.writeHead(req.url?.includes('/secrets') ? 403 : 200).end('{}');
    });
    const fetchText = async (path: string): Promise<number> => (await fetch(`${base}${path}`)).status;
    expect(await fetchText('/api/v1/namespaces/d/pods')).toBe(200);
    expect(await fetchText('/api/v1/namespaces/d/secrets/s')).toBe(403);
    await expect.poll(() => value(telemetry, 'apiserver_request_total', { verb: 'LIST', resource: 'pods', scope: 'namespace', code: '200' })).toBe(1);
    await expect.poll(() => value(telemetry, 'apiserver_request_total', { verb: 'GET', resource: 'secrets', scope: 'resource', code: '403' })).toBe(1);
    expect(await value(telemetry, 'apiserver_request_duration_seconds', { verb: 'LIST', resource: 'pods' })).toBe(1);

    const watch = get(`${base}/api/v1/pods?watch=true`);
    watch.on('error', () => undefined);
    await expect.poll(() => value(telemetry, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'pods' })).toBe(1);
    (watchResponse as { end(): void } | null)?.end();
    await expect.poll(() => value(telemetry, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'pods' })).toBe(0);
    await expect.poll(() => value(telemetry, 'apiserver_request_total', { verb: 'WATCH', resource: 'pods', code: '200' })).toBe(1);
    // Watches are not in the latency histogram: their length is the client's choice.
    expect(await value(telemetry, 'apiserver_request_duration_seconds', { verb: 'WATCH' })).toBeUndefined();
    watch.destroy();
  });
});

describe('GET /metrics', () => {
  const policy = new RbacPolicy(staticPolicySource([...defaultClusterRoles(), ...defaultClusterRoleBindings()]));
  const authorizer = new ClusterAuthorizer(policy, new NodeGraph({ pods: () => [], pvc: () => undefined }));
  const users: Record<string, UserInfo> = {
    prometheus: { name: 'prometheus', uid: 'p', groups: ['system:monitoring', 'system:authenticated'] },
    admin: { name: 'admin', uid: 'a', groups: ['system:masters', 'system:authenticated'] },
    stranger: { name: 'stranger', uid: 's', groups: ['system:authenticated'] },
  };

  it('answers system:monitoring and cluster-admin, and refuses others as Kubernetes words it', async () => {
    const telemetry = createMemberTelemetry({ processMetrics: false });
    const base = await listen((req, res) => {
      const user = users[req.headers['x-user'] as string] ?? users.stranger;
      if (user === undefined) throw new Error('no user');
      serveMetrics({ req, res, user, authorizer, telemetry }).catch((error: unknown) => {
        res.writeHead(error instanceof ApiError ? error.httpStatus : 500).end(error instanceof Error ? error.message : String(error));
      });
    });
    for (const name of ['prometheus', 'admin']) {
      const reply = await fetch(`${base}/metrics`, { headers: { 'x-user': name } });
      expect(reply.status, name).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await reply.text()).toContain('# TYPE apiserver_request_total counter');
    }
    const refused = await fetch(`${base}/metrics`, { headers: { 'x-user': 'stranger' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('forbidden: User "stranger" cannot get path "/metrics"');
  });
});
