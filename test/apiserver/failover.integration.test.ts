/**
 * The API under faults: kill -9 of the store leader (a member that also serves the API) while
 * clients create objects through every member's HTTPS API. Every create answered 201 must exist
 * afterwards; the others were answered 503/504 (or 409 when a retried create finds its own
 * object) or lost their connection to the killed member, never a hang. Only the killed member may
 * drop a connection: one to a surviving member is a failure.
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
    const members = h.cluster.memberIds;
    // Set just before the kill, so that requests in flight to it are forgiven too.
    let killed: string | null = null;
    const dropped: string[] = [];
    const writer = async (w: number): Promise<void> => {
      // Like a client given every member's address: it moves on when its member stops answering.
      let member = members[w % members.length] as string;
      for (let i = 0; running; i++) {
        const name = `cm-${w}-${i}`;
        const reply = await h.request('POST', '/api/v1/namespaces/default/configmaps', {
          member,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } }),
        }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
        if (reply instanceof Error) {
          if (member !== killed) dropped.push(`${name} on ${member}: ${reply.message}`);
          member = members[(members.indexOf(member) + 1) % members.length] as string;
          continue;
        }
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 201) created.push(name);
        else expect([409, 429, 503, 504]).toContain(reply.status);
      }
    };
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    await waitUntil('50 created', () => created.length >= 50, { timeoutMs: 20_000 });
    const leader = await h.cluster.waitForLeader({ timeoutMs: 5_000 });
    killed = leader;
    await h.cluster.killAndWait(leader);
    const atKill = created.length;
    await waitUntil('50 more created after the kill', () => created.length >= atKill + 50, { timeoutMs: 30_000 });
    running = false;
    await Promise.all(writers);
    console.info(`leader failover: answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(dropped).toEqual([]);
    const survivor = members.find((id) => id !== leader) as string;
    const list = await h.request('GET', '/api/v1/namespaces/default/configmaps', { member: survivor });
    expect(list.status).toBe(200);
    const names = new Set((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name));
    expect(created.filter((name) => !names.has(name))).toEqual([]);
    await h.cluster.restart(leader);
  });
});
