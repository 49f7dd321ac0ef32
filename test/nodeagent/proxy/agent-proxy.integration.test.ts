/**
 * The proxy inside a real agent against a real control plane (nats-server + one member): the
 * agent's catalog lists and watches Services and EndpointSlices over NATS as system:node:<name>;
 * a NodePort Service with a hand-written EndpointSlice (no selector, so no controller touches it)
 * pointing at an HTTP server on 127.64.202.1 is served on its ClusterIP and its NodePort; a second
 * endpoint added to the slice is served too; with the member SIGSTOPped (no API at all) the
 * Service keeps answering from the catalog's last state; once the member is back, deleting the
 * slice is seen and the Service refuses connections (RST) at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken } from '../../../actors/apiserver/authn/index.js';
import { createJsonLogger } from '../../../bus/logger.js';
import { caCertHash } from '../../../nodeagent/join/index.js';
import { defaultNodeConfig, defaultServicesConfig, startAgent, type RunningAgent } from '../../../nodeagent/agent.js';
import { callAs, startApiHarness, type ApiHarness } from '../../apiserver/harness.js';
import { requireComponent } from '../../support/components.js';
import { waitUntil } from '../../support/wait.js';
import { get, httpPod, service, slice, type Pod } from './fixtures.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const nodeIp = '127.32.202.1';
const clusterIp = '127.96.202.10';
const nodePort = 30202;
/** How long the member stays SIGSTOPped. */
const outageMs = 10_000;

let h: ApiHarness;
let scratch: string;
let agent: RunningAgent | undefined;
const pods: Pod[] = [];

const admin = (method: string, path: string, body?: unknown): ReturnType<typeof callAs> =>
  callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });

async function replies(address: string, port: number, count: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < count; i++) {
    const outcome = await get(address, port);
    out.add('body' in outcome ? outcome.body : `error ${outcome.error}`);
  }
  return out;
}

beforeAll(async () => {
  if (!runs) return;
  pods.push(await httpPod('127.64.202.1', 8080, 'pod-a'), await httpPod('127.64.202.2', 8080, 'pod-b'));
  h = await startApiHarness({ members: 1 });
  scratch = mkdtempSync(join(tmpdir(), 'kubus-agent-proxy-'));
  const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
  expect((await admin('POST', '/api/v1/namespaces/kube-system/secrets', bootstrap.secret)).status).toBe(201);
  agent = await startAgent({
    join: { node: 'proxy-node', dir: join(scratch, 'agent'), server: h.url, token: bootstrap.token, caCertHash: caCertHash(h.caCertPem) },
    runtime: 'process',
    node: defaultNodeConfig({ nodeIp, services: defaultServicesConfig(nodeIp, { proxy: true, clusterDns: null }) }),
    logger: createJsonLogger({ level: 'warn' }),
  });
  await agent.connected();
}, 90_000);

afterAll(async () => {
  await agent?.stop({ drain: false });
  await h?.stop();
  for (const pod of pods) await pod.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe.runIf(runs)('the agent proxy over the API', () => {
  it('serves a Service from the API on its ClusterIP and NodePort, follows its slice, and keeps serving with the API gone', async () => {
    const created = await admin('POST', '/api/v1/namespaces/default/services',
      service('web', { clusterIP: clusterIp, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort, protocol: 'TCP' }] }));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const endpoints = slice('web', [{ address: '127.64.202.1', nodeName: 'proxy-node' }], [{ name: 'http', port: 8080 }], { name: 'web-manual' });
    const sliceCreated = await admin('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', endpoints);
    expect(sliceCreated.status, JSON.stringify(sliceCreated.json)).toBe(201);

    await waitUntil('the ClusterIP answers', async () => ((await get(clusterIp, 80)) as { body?: string }).body === 'pod-a', { timeoutMs: 30_000, intervalMs: 200 });
    expect(await get(nodeIp, nodePort)).toEqual({ body: 'pod-a' });

    const updated = await admin('PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-manual', {
      ...slice('web', [{ address: '127.64.202.1' }, { address: '127.64.202.2' }], [{ name: 'http', port: 8080 }], { name: 'web-manual' }),
      metadata: { ...sliceCreated.json['metadata'], labels: { 'kubernetes.io/service-name': 'web' } },
    });
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    await waitUntil('both endpoints answer', async () => (await replies(clusterIp, 80, 4)).size === 2, { timeoutMs: 15_000, intervalMs: 200 });

    const member = h.cluster.memberIds[0] as string;
    h.cluster.pause(member);
    try {
      // A fixed outage (long enough for the agent's watches and requests to fail and be retried),
      // probed at a pace through it: not a wait for state.
      const outageEnd = Date.now() + outageMs;
      while (Date.now() < outageEnd) {
        expect(await replies(clusterIp, 80, 2)).toEqual(new Set(['pod-a', 'pod-b']));
        expect(await replies(nodeIp, nodePort, 2)).toEqual(new Set(['pod-a', 'pod-b']));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      h.cluster.resume(member);
    }

    // The API back: the catalog follows again; without endpoints the Service refuses at once.
    await h.waitReady(member);
    expect((await admin('DELETE', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-manual')).status).toBe(200);
    await waitUntil('the Service refuses (reset)', async () => ((await get(clusterIp, 80)) as { error?: string }).error === 'ECONNRESET', { timeoutMs: 30_000, intervalMs: 200 });
  }, 90_000);
});
