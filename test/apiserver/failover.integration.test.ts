/**
 * The API under store faults: kill -9 of the store leader while clients create objects through
 * HTTPS. Every create answered 201 must exist afterwards; the others were answered 503/504 (or
 * 409 when a retried create finds its own object), never a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('API server across a store leader failover', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness();
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('loses no acknowledged object when the store leader is killed during writes', async () => {
    const created: string[] = [];
    const statuses = new Map<number, number>();
    let running = true;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const name = `cm-${w}-${i}`;
        const reply = await h.request('POST', '/api/v1/namespaces/default/configmaps', {
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } }),
        });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 201) created.push(name);
        else expect([409, 429, 503, 504]).toContain(reply.status);
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await waitUntil('50 created', () => created.length >= 50, { timeoutMs: 20_000 });
    const leader = await h.cluster.waitForLeader({ timeoutMs: 5_000 });
    await h.cluster.killAndWait(leader);
    const atKill = created.length;
    await waitUntil('50 more created after the kill', () => created.length >= atKill + 50, { timeoutMs: 30_000 });
    running = false;
    await Promise.all(writers);
    const list = await h.request('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.status).toBe(200);
    const names = new Set((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name));
    expect(created.filter((name) => !names.has(name))).toEqual([]);
    await h.cluster.restart(leader);
  });
});
