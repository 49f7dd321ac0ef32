/**
 * NodeRestriction through the API, as a kubelet would meet it: with its own credentials a node may
 * relabel itself within the allowed labels and update the status of its own pods, but may not
 * change its own taints, reserved labels, or delete a pod bound to another node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';
import { requireComponent } from '../support/components.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

let h: ApiHarness;
const json = { 'Content-Type': 'application/json' };
const merge = { 'Content-Type': 'application/merge-patch+json' };
const nodeToken = 'node-a-token';

describe.runIf(runs)('NodeRestriction', () => {
  beforeAll(async () => {
    h = await startApiHarness({ members: 1, users: [{ token: nodeToken, name: 'system:node:node-a', groups: ['system:nodes'] }] });
    for (const name of ['node-a', 'node-b']) {
      const node = { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] } };
      expect((await h.request('POST', '/api/v1/nodes', { headers: json, body: JSON.stringify(node) })).status).toBe(201);
    }
    for (const [name, nodeName] of [['on-a', 'node-a'], ['on-b', 'node-b']] as const) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'nginx:1.27' }] } };
      expect((await h.request('POST', '/api/v1/namespaces/default/pods', { headers: json, body: JSON.stringify(pod) })).status).toBe(201);
    }
    // The Node authorizer learns pod bindings through a watch: wait until it knows on-a is node-a's.
    await waitUntil('the node authorizer to see on-a', async () =>
      (await h.request('GET', '/api/v1/namespaces/default/pods/on-a', { token: nodeToken })).status === 200, { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a node changing its own taints or reserved labels, allows its own labels', async () => {
    const taints = await h.request('PATCH', '/api/v1/nodes/node-a', { token: nodeToken, headers: merge, body: JSON.stringify({ spec: { taints: [] } }) });
    expect(taints.status).toBe(403);
    expect(JSON.parse(taints.body).message).toContain('node "node-a" is not allowed to modify taints');
    const reserved = await h.request('PATCH', '/api/v1/nodes/node-a', {
      token: nodeToken, headers: merge, body: JSON.stringify({ metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } }),
    });
    expect(reserved.status).toBe(403);
    const own = await h.request('PATCH', '/api/v1/nodes/node-a', {
      token: nodeToken, headers: merge, body: JSON.stringify({ metadata: { labels: { 'topology.kubernetes.io/zone': 'z1' } } }),
    });
    expect(own.status, own.body).toBe(200);
    expect((await h.request('PATCH', '/api/v1/nodes/node-b', { token: nodeToken, headers: merge, body: JSON.stringify({ metadata: { labels: { a: 'b' } } }) })).status).toBe(403);
  });

  it('lets a node update status of and delete only the pods bound to it', async () => {
    const status = JSON.stringify({ status: { phase: 'Running' } });
    const mine = await h.request('PATCH', '/api/v1/namespaces/default/pods/on-a/status', { token: nodeToken, headers: merge, body: status });
    expect(mine.status, mine.body).toBe(200);
    expect((await h.request('PATCH', '/api/v1/namespaces/default/pods/on-b/status', { token: nodeToken, headers: merge, body: status })).status).toBe(403);
    expect((await h.request('DELETE', '/api/v1/namespaces/default/pods/on-b', { token: nodeToken })).status).toBe(403);
    expect((await h.request('DELETE', '/api/v1/namespaces/default/pods/on-a', { token: nodeToken })).status).toBe(200);
  });
});
