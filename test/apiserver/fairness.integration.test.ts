/**
 * Fairness under a flood, on a real member with a small in-flight bound: one client sends 10×
 * the member's capacity and gets 429s with Retry-After, while another client of
 * the same level and a node's heartbeat keep being served. Every answer has an exact expected
 * code (the flooder 200 or 429, the others 200): a 5xx under the flood is a failure. The other
 * client's p99 is measured unloaded and under the flood and reported; it is asserted only loosely
 * (a 2-core machine shares its CPU between the flood, the member and the test).
 */
import { Agent, request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../bus/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
/** 20 seats in all; the global-default level, both clients' level, gets 2 (levelShares in http/fairness.ts). */
const inFlightMax = 20;
const clientClock = new SystemClock();

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}

describe.runIf(runs)('fairness under a flood', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness({
      members: 1,
      serverArgs: ['--api-max-in-flight', String(inFlightMax)],
      users: [
        { token: 'flooder-token', name: 'flooder' },
        { token: 'polite-token', name: 'polite' },
        { token: 'node-token', name: 'system:node:n1', groups: ['system:nodes'] },
      ],
    });
    // Whatever the authorizer, both users may read configmaps in default.
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const json = { 'Content-Type': 'application/json' };
    expect((await h.request('POST', `${rbac}/clusterroles`, { headers: json, body: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'fair-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    }) })).status).toBe(201);
    expect((await h.request('POST', `${rbac}/clusterrolebindings`, { headers: json, body: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'fair-readers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'fair-reader' },
      subjects: [{ kind: 'User', name: 'flooder', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'User', name: 'polite', apiGroup: 'rbac.authorization.k8s.io' }],
    }) })).status).toBe(201);
    expect((await h.request('POST', '/api/v1/namespaces/default/configmaps', { headers: json, body: JSON.stringify({ metadata: { name: 'c' }, data: { a: '1' } }) })).status).toBe(201);
    // The node reads its own Node object, as a heartbeat does: it exists, so the answer is 200.
    expect((await h.request('POST', '/api/v1/nodes', { headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }) })).status).toBe(201);
  });

  afterAll(async () => {
    for (const agent of agents.values()) agent.destroy();
    await h?.stop();
  });

  // Kept-alive connections, as kubectl and client-go use: the flood is requests, not TLS handshakes.
  const agents = new Map<string, Agent>();
  const timedGet = (token: string): Promise<{ status: number; ms: number; retryAfter: string | undefined }> => {
    let agent = agents.get(token);
    if (agent === undefined) {
      agent = new Agent({ keepAlive: true, maxSockets: 10 * inFlightMax, ca: h.caCertPem });
      agents.set(token, agent);
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(new URL('/api/v1/namespaces/default/configmaps/c', h.url), { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, retryAfter: res.headers['retry-after'] }));
      });
      req.on('error', reject);
      req.end();
    });
  };

  it('gives a flooding client 429s while another client of its level keeps its latency', async () => {
    // The binding reaches the member's authorizer through its watch: wait until both users are served.
    for (const token of ['polite-token', 'flooder-token']) {
      await waitUntil(`${token} to be authorized`, async () => (await timedGet(token)).status === 200, { timeoutMs: 10_000 });
    }
    const unloaded: number[] = [];
    for (let i = 0; i < 100; i++) unloaded.push((await timedGet('polite-token')).ms);

    // Anything but 200 or 429 (a 5xx above all) is a failure of the member under the flood.
    const flood = { running: true, ok: 0, refused: 0, retryAfter: new Set<string>(), unexpected: [] as number[] };
    // 10× the member's capacity (all its seats), each connection asking again as soon as answered.
    const flooders = Array.from({ length: 10 * inFlightMax }, async () => {
      while (flood.running) {
        const reply = await timedGet('flooder-token');
        if (reply.status === 429) {
          flood.refused += 1;
          if (reply.retryAfter !== undefined) flood.retryAfter.add(reply.retryAfter);
          // Like client-go, each connection honours Retry-After before asking again: the flood is
          // 10× the seats in concurrency, not an unbounded stream of refused handshakes.
          await new Promise<void>((resolve) => clientClock.setTimeout(resolve, Number(reply.retryAfter ?? '1') * 1_000));
        } else if (reply.status === 200) flood.ok += 1;
        else flood.unexpected.push(reply.status);
      }
    });
    // Measure once every flood connection is open: 200 TLS handshakes at once are a burst of CPU
    // of their own, not what fairness is about.
    await waitUntil('the flood to be under way', () => flood.ok + flood.refused >= 10 * inFlightMax * 2, { timeoutMs: 30_000 });
    const loaded: number[] = [];
    const nodeStatuses: number[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const reply = await timedGet('polite-token');
        expect(reply.status).toBe(200);
        loaded.push(reply.ms);
        // A node's heartbeat-like read has a level of its own.
        if (i % 10 === 0) nodeStatuses.push((await h.request('GET', '/api/v1/nodes/n1', { token: 'node-token' })).status);
      }
    } finally {
      flood.running = false;
      await Promise.all(flooders);
    }
    const unloadedP99 = p99(unloaded);
    const loadedP99 = p99(loaded);
    console.info(`fairness: polite p99 ${unloadedP99.toFixed(1)} ms unloaded, ${loadedP99.toFixed(1)} ms under the flood (${(loadedP99 / unloadedP99).toFixed(1)}×); flooder ${flood.ok} served, ${flood.refused} refused with 429`);
    expect(flood.unexpected).toEqual([]);
    expect(flood.refused).toBeGreaterThan(0);
    expect([...flood.retryAfter]).toEqual(['1']);
    // Never 429 (the node's level is not the flooder's), never anything but 200.
    expect(nodeStatuses).toEqual(Array.from({ length: 10 }, () => 200));
    // Loose, as the issue asks: its target is 2×, reported above; on a shared 2-core machine the
    // flood and the member compete for CPU, which no queueing discipline removes.
    expect(loadedP99).toBeLessThan(Math.max(unloadedP99 * 10, unloadedP99 + 250));
  });
});
