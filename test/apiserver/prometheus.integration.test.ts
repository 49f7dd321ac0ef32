/**
 * Prometheus /metrics (issue 13 §3), scraped as a Prometheus would: one member process (harness)
 * and one real process-runtime agent joined with a bootstrap token and serving `--metrics-address`
 * on a free loopback port.
 *
 * - The member's API port answers GET /metrics to cluster-admin and to a user in the
 *   `system:monitoring` group (Kubernetes' default scrape role), 403 to a user without it (the
 *   Kubernetes wording for a non-resource path), 401 without credentials. The text holds the API
 *   request series by verb/resource/code (our own LIST of namespaces is in it), the open watch in
 *   apiserver_longrunning_requests, the store's proposal/commit/apply histograms, its term and
 *   leader gauges, and the process metrics.
 * - The agent's /metrics holds runtime operations by kubelet operation name, the pod it started
 *   in kubelet_pod_start_duration_seconds and kubus_pod_ready_duration_seconds, and its pods by phase.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { createJsonLogger } from '../../bus/logger.js';
import { freePort } from '../../bus/index.js';
import { caCertHash } from '../../nodeagent/join/index.js';
import { defaultNodeConfig, defaultServicesConfig, startAgent, type RunningAgent } from '../../nodeagent/agent.js';
import { callAs, startApiHarness, type ApiHarness } from './harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'kubus-test-h8-prom';
const node = { name: 'kubus-test-h8-node', ip: '127.32.218.1' };
const monitor = { token: 'kubus-test-h8-monitor-token', name: 'prometheus', groups: ['system:monitoring'] };
const stranger = { token: 'kubus-test-h8-stranger-token', name: 'stranger' };

/** One sample's value from an exposition text: `name{labels} value`, labels given as a substring set. */
function sample(text: string, name: string, labels: readonly string[] = []): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe.runIf(runs)('Prometheus /metrics on a member and an agent', () => {
  let h: ApiHarness;
  let scratch: string;
  let agent: RunningAgent | null = null;
  let agentMetricsUrl = '';

  beforeAll(async () => {
    h = await startApiHarness({ members: 1, users: [monitor, stranger] });
    scratch = mkdtempSync(join(tmpdir(), 'kubus-test-h8-prom-'));
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: bootstrap.secret })).status).toBe(201);
    const port = await freePort();
    agentMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    agent = await startAgent({
      join: { node: node.name, dir: join(scratch, node.name), server: h.url, token: bootstrap.token, caCertHash: caCertHash(h.caCertPem) },
      runtime: 'process',
      node: defaultNodeConfig({ nodeIp: node.ip, services: defaultServicesConfig(node.ip, { proxy: false, clusterDns: null }) }),
      metricsAddress: { host: '127.0.0.1', port },
      logger: createJsonLogger({ level: 'warn' }),
    });
    await agent.connected();
    expect((await callAs(h, 'POST', '/api/v1/namespaces', { token: h.token, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status).toBe(201);
    await waitUntil('the default ServiceAccount', async () => (await adminApi(h).get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await agent?.stop({ drain: true });
    await h?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('a member serves its API, store and process series to cluster-admin and system:monitoring, and refuses others', async () => {
    // Our own requests, so the series have something to show: a LIST and an open watch.
    expect((await h.request('GET', '/api/v1/namespaces')).status).toBe(200);
    const watch = request(`${h.url}/api/v1/namespaces/${ns}/configmaps?watch=true`, { ca: h.caCertPem, headers: { Authorization: `Bearer ${h.token}` } });
    watch.on('error', () => undefined);
    watch.end();
    try {
      const text = await waitUntil('the watch in apiserver_longrunning_requests', async () => {
        const reply = await h.request('GET', '/metrics');
        expect(reply.status).toBe(200);
        return (sample(reply.body, 'apiserver_longrunning_requests', ['verb="WATCH"', 'resource="configmaps"']) ?? 0) >= 1 ? reply.body : null;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      expect(sample(text, 'apiserver_request_total', ['verb="LIST"', 'resource="namespaces"', 'code="200"'])).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'apiserver_request_duration_seconds_count', ['verb="LIST"', 'resource="namespaces"'])).toBeGreaterThanOrEqual(1);
      // A single member leads its own cluster and has committed writes (the defaults, our namespace).
      expect(sample(text, 'kubus_store_is_leader')).toBe(1);
      expect(sample(text, 'kubus_store_has_leader')).toBe(1);
      expect(sample(text, 'kubus_store_raft_term')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'kubus_store_proposal_duration_seconds_count', ['outcome="ok"'])).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'kubus_store_disk_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'kubus_store_apply_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(text).toContain('# TYPE kubus_store_leader_changes_seen_total counter');
      expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    } finally {
      watch.destroy();
    }

    const asMonitor = await h.request('GET', '/metrics', { token: monitor.token });
    expect(asMonitor.status).toBe(200);
    expect(asMonitor.headers['content-type']).toMatch(/^text\/plain/);
    const refused = await h.request('GET', '/metrics', { token: stranger.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('User \\"stranger\\" cannot get path \\"/metrics\\"');
    expect((await h.request('GET', '/metrics', { token: null })).status).toBe(401);
  });

  it('an agent serves runtime operations, pod start latency and pods by phase', async () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sleeper', namespace: ns },
      spec: { nodeName: node.name, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'kubus.io/process', command: ['/bin/sleep', '3600'] }] },
    };
    expect((await callAs(h, 'POST', `/api/v1/namespaces/${ns}/pods`, { token: h.token, body: pod })).status).toBe(201);
    const text = await waitUntil('the pod timed on the agent', async () => {
      const reply = await fetch(agentMetricsUrl).catch(() => null);
      if (reply === null || reply.status !== 200) return null;
      const body = await reply.text();
      return (sample(body, 'kubus_pod_ready_duration_seconds_count') ?? 0) >= 1 ? body : null;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(sample(text, 'kubelet_pod_start_duration_seconds_count')).toBe(1);
    expect(sample(text, 'kubelet_pod_start_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'kubus_node_pods', ['phase="Running"'])).toBe(1);
    expect(sample(text, 'kubus_node_pods', ['phase="Pending"'])).toBe(0);
    for (const operation of ['run_podsandbox', 'create_container', 'start_container', 'pull_image']) {
      expect(sample(text, 'kubelet_runtime_operations_total', [`operation_type="${operation}"`]), operation).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'kubelet_runtime_operations_duration_seconds_count', [`operation_type="${operation}"`]), operation).toBeGreaterThanOrEqual(1);
    }
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await fetch(agentMetricsUrl.replace('/metrics', '/pods'))).status).toBe(404);
  });
});
