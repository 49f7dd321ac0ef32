/**
 * ResourceQuota and LimitRange through the API: a pod-count quota refuses the pod over it with a
 * 403 naming the quota (kubectl shows it), and a LimitRange defaults container resources.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from './harness.js';
import { requireComponent } from '../support/components.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

let h: ApiHarness;
const json = { 'Content-Type': 'application/json' };
const pod = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });

describe.runIf(runs)('resource quota and limit ranges', () => {
  beforeAll(async () => {
    h = await startApiHarness({ members: 1 });
    for (const name of ['quota-test', 'limits-test', 'race-test']) {
      const reply = await h.request('POST', '/api/v1/namespaces', { headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) });
      expect(reply.status).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a pod over the pod-count quota with a message naming the quota', async () => {
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pod-count' }, spec: { hard: { pods: '2', 'count/configmaps': '5' } } };
    expect((await h.request('POST', '/api/v1/namespaces/quota-test/resourcequotas', { headers: json, body: JSON.stringify(quota) })).status).toBe(201);
    for (const name of ['p1', 'p2']) expect((await h.request('POST', '/api/v1/namespaces/quota-test/pods', { headers: json, body: pod(name) })).status).toBe(201);
    const refused = await h.request('POST', '/api/v1/namespaces/quota-test/pods', { headers: json, body: pod('p3') });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      reason: 'Forbidden', message: 'pods "p3" is forbidden: exceeded quota: pod-count, requested: pods=1, used: pods=2, limited: pods=2',
    });
    // Dry-run runs quota too, and kubectl prints the refusal.
    expect((await h.request('POST', '/api/v1/namespaces/quota-test/pods?dryRun=All', { headers: json, body: pod('p4') })).status).toBe(403);
    const kubectl = await h.kubectl(['run', 'p5', '--image=nginx:1.27', '-n', 'quota-test']);
    expect(kubectl.code).not.toBe(0);
    expect(kubectl.stderr).toContain('exceeded quota: pod-count');
    const listed = await h.kubectl(['get', 'quota', '-n', 'quota-test']);
    expect(listed.stdout).toContain('pod-count');
  });

  it('never lets concurrent creates exceed a quota, and keeps its status.used', async () => {
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'three' }, spec: { hard: { pods: '3' } } };
    expect((await h.request('POST', '/api/v1/namespaces/race-test/resourcequotas', { headers: json, body: JSON.stringify(quota) })).status).toBe(201);
    // Twelve creates at once all see room under the quota at admission; only three may land.
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => h.request('POST', '/api/v1/namespaces/race-test/pods', { headers: json, body: pod(`r${i}`) })));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    for (const reply of replies.filter((r) => r.status !== 201)) {
      expect([403, 409], reply.body).toContain(reply.status);
      if (reply.status === 403) expect(JSON.parse(reply.body).message).toContain('exceeded quota: three');
    }
    const pods = JSON.parse((await h.request('GET', '/api/v1/namespaces/race-test/pods')).body) as { items: unknown[] };
    expect(pods.items).toHaveLength(3);
    const stored = JSON.parse((await h.request('GET', '/api/v1/namespaces/race-test/resourcequotas/three')).body);
    expect(stored.status).toMatchObject({ hard: { pods: '3' }, used: { pods: '3' } });
  });

  it('defaults container requests and limits from a LimitRange and refuses over its max', async () => {
    const range = {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '128Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' } }] },
    };
    expect((await h.request('POST', '/api/v1/namespaces/limits-test/limitranges', { headers: json, body: JSON.stringify(range) })).status).toBe(201);
    const created = await h.request('POST', '/api/v1/namespaces/limits-test/pods', { headers: json, body: pod('defaulted') });
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body).spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    const big = JSON.parse(pod('big'));
    big.spec.containers[0].resources = { limits: { cpu: '2' } };
    const refused = await h.request('POST', '/api/v1/namespaces/limits-test/pods', { headers: json, body: JSON.stringify(big) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toContain('maximum cpu usage per Container is 1, but limit is 2');
  });
});
