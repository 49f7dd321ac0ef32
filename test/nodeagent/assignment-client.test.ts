/**
 * The assignment client (nodeagent/assignment/client.ts) on a SimulatedClock, with a fake bus and a
 * fake API: it subscribes before it lists, lists after the first relay message, pages through
 * continue tokens, relists when the heartbeats stop (missedHeartbeatMs of simulated time), and while
 * the API fails it emits nothing, keeps its state and retries on a doubling, bounded backoff; a
 * relist after the first sync waits this node's fixed share of the spread (so a relay failover does
 * not make every node list in the same instant), applying the stream meanwhile.
 */
import { describe, expect, test } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock, createJsonLogger, encode, subjects, type Bus, type BusMessage } from '../../bus/index.js';
import type { ApiClient, ListOptions, ListResult } from '../../actors/controllers/runtime/types.js';
import type { AgentContext } from '../../nodeagent/agent-context.js';
import { relistDelayMs, startAssignmentClient, type AssignmentMessage, type AssignmentUpdate } from '../../nodeagent/assignment/index.js';

const node = 'n1';
const subject = subjects('c1').nodeAssign(node);

function pod(name: string, rv: number): Pod {
  return { metadata: { namespace: 'default', name, uid: `uid-${name}`, resourceVersion: String(rv) }, spec: { nodeName: node, containers: [] } };
}

class FakeBus {
  readonly handlers = new Map<string, (message: BusMessage) => void>();
  send(message: AssignmentMessage): void {
    this.handlers.get(subject)?.({ subject, data: encode(message), reply: null });
  }
  asBus(): Bus {
    return {
      name: 'fake',
      publish: () => undefined,
      subscribe: (s, handler) => {
        this.handlers.set(s, handler);
        return { subject: s, unsubscribe: () => this.handlers.delete(s), droppedCount: () => 0 };
      },
      request: () => Promise.reject(new Error('not used')),
      respond: () => undefined,
      close: async () => undefined,
    };
  }
}

class FakeApi {
  pods: Pod[] = [];
  listRv = 1;
  failing = false;
  readonly calls: ListOptions[] = [];
  asApi(): ApiClient {
    const unused = () => Promise.reject(new Error('not used'));
    return {
      list: async <T>(_resource: unknown, options?: ListOptions): Promise<ListResult<T>> => {
        this.calls.push(options ?? {});
        if (this.failing) throw new Error('no quorum');
        // Two pages of at most one pod, to exercise continue.
        const at = options?.continue === undefined ? 0 : Number(options.continue);
        const items = this.pods.slice(at, at + 1) as T[];
        return { items, resourceVersion: String(this.listRv), ...(at + 1 < this.pods.length ? { continue: String(at + 1) } : {}) };
      },
      get: unused, create: unused, update: unused, patch: unused, delete: unused, watch: unused,
    } as ApiClient;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function start(relistSpreadMs = 0) {
  const clock = new SimulatedClock();
  const bus = new FakeBus();
  const api = new FakeApi();
  const updates: AssignmentUpdate[] = [];
  const ctx: AgentContext = {
    nodeName: node, cluster: 'c1', dir: '/nonexistent', api: api.asApi(), bus: bus.asBus(), clock,
    wallClock: () => new Date(0), logger: createJsonLogger({ level: 'error' }),
  };
  const client = startAssignmentClient(ctx, (u) => updates.push(u), { relistSpreadMs });
  return { clock, bus, api, updates, client };
}

describe('assignment client', () => {
  test('subscribes first, lists (paged, by spec.nodeName) after the first message, then streams', async () => {
    const { bus, api, updates, client, clock } = start();
    expect(bus.handlers.has(subject)).toBe(true);
    expect(api.calls).toHaveLength(0);
    api.pods = [pod('a', 2), pod('b', 3)];
    api.listRv = 3;
    bus.send({ kind: 'heartbeat', epoch: 'e1', seq: 0 });
    await flush();
    expect(api.calls.map((c) => [c.fieldSelector, c.continue])).toEqual([['spec.nodeName=n1', undefined], ['spec.nodeName=n1', '1']]);
    expect(updates).toEqual([{ type: 'sync', pods: [pod('a', 2), pod('b', 3)] }]);
    expect(client.synced()).toBe(true);
    bus.send({ kind: 'change', epoch: 'e1', seq: 1, namespace: 'default', name: 'c', uid: 'uid-c', pod: pod('c', 4) });
    expect(updates.at(-1)).toEqual({ type: 'upsert', pod: pod('c', 4) });
    clock.advance(1_000);
    await client.stop();
  });

  test('relists when no message comes for missedHeartbeatMs (simulated time)', async () => {
    const { bus, api, updates, client, clock } = start();
    bus.send({ kind: 'heartbeat', epoch: 'e1', seq: 0 });
    await flush();
    expect(api.calls).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      bus.send({ kind: 'heartbeat', epoch: 'e1', seq: 0 });
      await flush();
    }
    expect(api.calls).toHaveLength(1);
    clock.advance(3_250);
    await flush();
    expect(api.calls).toHaveLength(1);
    clock.advance(500);
    await flush();
    expect(api.calls).toHaveLength(2);
    expect(updates.filter((u) => u.type === 'sync')).toHaveLength(2);
    await client.stop();
  });

  test('while the API fails: nothing is emitted, the view is kept, lists are retried on a doubling backoff', async () => {
    const { bus, api, updates, client, clock } = start();
    api.pods = [pod('a', 2)];
    bus.send({ kind: 'heartbeat', epoch: 'e1', seq: 0 });
    await flush();
    expect(updates).toHaveLength(1);
    api.failing = true;
    bus.send({ kind: 'heartbeat', epoch: 'e2', seq: 0 }); // a new relay: relist, which fails
    await flush();
    const attemptsAt: number[] = [];
    let seen = api.calls.length;
    for (let t = 0; t < 40_000; t += 100) {
      clock.advance(100);
      await flush();
      if (api.calls.length !== seen) {
        attemptsAt.push(clock.now());
        seen = api.calls.length;
      }
    }
    const gaps = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!);
    expect(gaps.slice(0, 6)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000);
    expect(updates).toHaveLength(1);
    api.failing = false;
    api.pods = [];
    api.listRv = 5; // the pod (resourceVersion 2) was deleted at 5
    clock.advance(10_000);
    await flush();
    expect(updates.at(-1)).toEqual({ type: 'sync', pods: [] });
    await client.stop();
  });

  test('a relist after the first sync waits this node\'s share of the spread; the stream is applied meanwhile', async () => {
    const delay = relistDelayMs(node, 2_000);
    expect(delay).toBe(relistDelayMs(node, 2_000));
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(2_000);
    expect(new Set(Array.from({ length: 100 }, (_, i) => Math.floor(relistDelayMs(`node-${i}`, 2_000) / 500))).size).toBe(4); // spread over the whole range
    const { bus, api, updates, client, clock } = start(2_000);
    bus.send({ kind: 'heartbeat', epoch: 'e1', seq: 0 });
    await flush();
    expect(api.calls).toHaveLength(1); // the first list is not delayed
    bus.send({ kind: 'heartbeat', epoch: 'e2', seq: 0 }); // a new relay
    await flush();
    expect(api.calls).toHaveLength(1);
    clock.advance(Math.max(0, delay - 1));
    await flush();
    expect(api.calls).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(api.calls).toHaveLength(2);
    expect(updates.filter((u) => u.type === 'sync')).toHaveLength(2);
    await client.stop();
  });
});
