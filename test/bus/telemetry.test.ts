/**
 * Telemetry (issue 13), unit by unit: the `--metrics-address` parser; the registries render the
 * metric names Kubernetes and etcd users look for; the store observer turns Raft state into term,
 * leader and leader-change series, and a real single-member RaftDriver feeds it proposal, disk
 * commit and apply latencies; the agent's /metrics server answers GET /metrics only. Simulated
 * clocks make every duration exact; the HTTP server listens on 127.0.0.1 with a free port.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { Prng } from '../../bus/prng.js';
import {
  InvalidMetricsAddressError, createAgentTelemetry, createMemberTelemetry, parseMetricsAddress, startMetricsServer, storeObserver,
} from '../../bus/telemetry/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { RaftDriver } from '../../store/raft-driver.js';
import { BackendRaftLog } from '../../store/backend-raft-log.js';

const quiet = createJsonLogger({ level: 'error', write: () => undefined });
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

async function sampleValue(telemetry: { registry: { getSingleMetric(name: string): unknown } }, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = telemetry.registry.getSingleMetric(name) as { get(): Promise<{ values: { labels: Record<string, unknown>; value: number; metricName?: string }[] }> } | undefined;
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want) && (v.metricName === undefined || v.metricName === name || v.metricName.endsWith('_count')))?.value;
}

describe('--metrics-address', () => {
  it('defaults to the node IP on 10255, takes host:port, :port and [v6]:port, and off', () => {
    expect(parseMetricsAddress(undefined, '10.0.0.5')).toEqual({ host: '10.0.0.5', port: 10255 });
    expect(parseMetricsAddress('127.0.0.1:9100', '10.0.0.5')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseMetricsAddress(':9100', '10.0.0.5')).toEqual({ host: '10.0.0.5', port: 9100 });
    expect(parseMetricsAddress('[::1]:0', '10.0.0.5')).toEqual({ host: '::1', port: 0 });
    expect(parseMetricsAddress('off', '10.0.0.5')).toBeNull();
  });

  it('refuses what is not an address, naming the value', () => {
    for (const bad of ['10255', 'host:', 'host:port', 'h:70000', 'a b:1']) {
      expect(() => parseMetricsAddress(bad, '10.0.0.5')).toThrow(InvalidMetricsAddressError);
    }
    expect(() => parseMetricsAddress('nope', '1.2.3.4')).toThrow(/"nope"/);
  });
});

describe('registries', () => {
  it('a member renders the API and store families, an agent the runtime and pod families', async () => {
    const member = createMemberTelemetry({ processMetrics: false });
    member.api.requests.inc({ verb: 'LIST', group: '', version: 'v1', resource: 'pods', subresource: '', scope: 'cluster', code: '200' });
    member.api.requestDuration.observe({ verb: 'LIST', group: '', version: 'v1', resource: 'pods', subresource: '', scope: 'cluster' }, 0.01);
    const memberText = (await member.scrape()).body;
    for (const name of ['apiserver_request_total', 'apiserver_request_duration_seconds', 'apiserver_longrunning_requests', 'kubus_store_proposal_duration_seconds',
      'kubus_store_disk_commit_duration_seconds', 'kubus_store_apply_duration_seconds', 'kubus_store_raft_term', 'kubus_store_leader_changes_seen_total']) {
      expect(memberText).toContain(`# TYPE ${name} `);
    }
    expect(memberText).toContain('apiserver_request_total{verb="LIST",group="",version="v1",resource="pods",subresource="",scope="cluster",code="200"} 1');
    expect(memberText).not.toContain('kubelet_');

    const agent = createAgentTelemetry({ processMetrics: false, labels: { node: 'n1' } });
    const agentText = (await agent.scrape()).body;
    for (const name of ['kubelet_runtime_operations_total', 'kubelet_runtime_operations_duration_seconds', 'kubelet_pod_start_duration_seconds', 'kubus_node_pods']) {
      expect(agentText).toContain(`# TYPE ${name} `);
    }
    expect(agentText).not.toContain('apiserver_');
    expect((await agent.scrape()).contentType).toMatch(/^text\/plain/);
  });

  it('process metrics are on by default', async () => {
    const body = (await createMemberTelemetry().scrape()).body;
    expect(body).toContain('process_cpu_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('store observer', () => {
  it('sets term and leader gauges and counts leader changes, not the first state', async () => {
    const telemetry = createMemberTelemetry({ processMetrics: false });
    const observer = storeObserver(telemetry.store);
    observer.raftState({ role: 'follower', leader: null, term: 1 });
    observer.raftState({ role: 'candidate', leader: null, term: 2 });
    observer.raftState({ role: 'leader', leader: 'a', term: 2 });
    observer.raftState({ role: 'follower', leader: 'b', term: 3 });
    expect(await sampleValue(telemetry, 'kubus_store_raft_term')).toBe(3);
    expect(await sampleValue(telemetry, 'kubus_store_has_leader')).toBe(1);
    expect(await sampleValue(telemetry, 'kubus_store_is_leader')).toBe(0);
    // null → a → b: two changes (null → null is none).
    expect(await sampleValue(telemetry, 'kubus_store_leader_changes_seen_total')).toBe(2);
  });

  it('a real single-member driver reports its election, proposals, durable commits and applies', async () => {
    const telemetry = createMemberTelemetry({ processMetrics: false });
    const clock = new SimulatedClock();
    const deferred: (() => void)[] = [];
    const flush = (): void => {
      for (let round = 0; deferred.length > 0 && round < 1000; round++) deferred.splice(0).forEach((fn) => fn());
    };
    const backend = new MemoryBackend();
    const driver = new RaftDriver({
      self: 'a', initialMembers: ['a'], backend, log: new BackendRaftLog(backend), clock, random: new Prng(7), timing: { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 },
      send: () => undefined, snapshotEveryEntries: 10_000, defer: (fn) => deferred.push(fn), observer: storeObserver(telemetry.store),
    });
    for (let i = 0; i < 100 && !driver.isLeader(); i++) {
      clock.advance(50);
      driver.tick();
      flush();
    }
    expect(driver.isLeader()).toBe(true);
    const write = driver.write({ type: 'put', request: { key: 'k', value: text('v') } }, null);
    flush();
    await write;
    expect(await sampleValue(telemetry, 'kubus_store_is_leader')).toBe(1);
    expect(await sampleValue(telemetry, 'kubus_store_raft_term')).toBeGreaterThanOrEqual(2);
    expect(await sampleValue(telemetry, 'kubus_store_proposal_duration_seconds', { outcome: 'ok' })).toBe(1);
    expect(await sampleValue(telemetry, 'kubus_store_disk_commit_duration_seconds')).toBeGreaterThanOrEqual(1);
    expect(await sampleValue(telemetry, 'kubus_store_entries_applied_total')).toBeGreaterThanOrEqual(1);
    // A refused proposal (the driver stopped) is an error sample.
    driver.stop();
    await expect(driver.write({ type: 'put', request: { key: 'k', value: text('w') } }, null)).rejects.toThrow();
    expect(await sampleValue(telemetry, 'kubus_store_proposal_duration_seconds', { outcome: 'error' })).toBe(1);
  });
});

describe('the agent /metrics server', () => {
  it('serves GET /metrics, 404 elsewhere, 405 for other methods; a taken port is a typed error', async () => {
    const telemetry = createAgentTelemetry({ processMetrics: false });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, { telemetry, logger: quiet });
    try {
      const ok = await fetch(server.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await ok.text()).toContain('kubelet_runtime_operations_total');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      await expect(startMetricsServer({ host: '127.0.0.1', port: server.port }, { telemetry, logger: quiet })).rejects.toThrow(/choose another --metrics-address/);
    } finally {
      await server.close();
    }
  });
});
