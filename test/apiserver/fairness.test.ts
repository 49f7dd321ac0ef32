/** Priority levels and fair queues: classification, per-level seats, round-robin between users, bounds. */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/index.js';
import { FairQueues, classify, fairnessLimits } from '../../actors/apiserver/http/fairness.js';
import { ApiError } from '../../actors/apiserver/status.js';

const user = (name: string, groups: string[] = ['system:authenticated']) => ({ name, uid: name, groups });
const req = (name: string, groups?: string[], resource: string | null = 'configmaps', namespace: string | null = 'default') =>
  ({ user: user(name, groups), verb: 'get', resource, namespace });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('classify', () => {
  it('puts admins, nodes, leader election, system components, service accounts and users in their levels', () => {
    expect(classify(req('admin', ['system:masters']))).toBe('exempt');
    expect(classify(req('system:node:n1', ['system:nodes']))).toBe('node');
    expect(classify(req('system:kube-scheduler', [], 'leases', 'kube-system'))).toBe('leader-election');
    expect(classify(req('system:kube-controller-manager'))).toBe('system');
    expect(classify(req('system:serviceaccount:apps:builder'))).toBe('workload');
    expect(classify(req('alice'))).toBe('global-default');
  });
});

describe('FairQueues', () => {
  const setup = (inFlightMax: number) => {
    const clock = new SimulatedClock();
    return { clock, queues: new FairQueues({ inFlightMax, retryAfterSeconds: 1, clock }) };
  };

  /** Fills every seat of global-default with `users` users, each holding its bound; returns the releases. */
  const fill = async (queues: FairQueues): Promise<{ seats: number; perUser: number; held: (() => void)[] }> => {
    const seats = queues.stats().find((s) => s.level === 'global-default')?.seats as number;
    const perUser = Math.max(1, Math.ceil(seats * fairnessLimits.flowSeatsShareMax));
    const held: (() => void)[] = [];
    for (let i = 0; held.length < seats; i++) {
      const count = Math.min(perUser, seats - held.length);
      held.push(...await Promise.all(Array.from({ length: count }, () => queues.acquire(req(`filler-${i}`)))));
    }
    return { seats, perUser, held };
  };

  it('serves two users of one level in turn, so a flooding user delays another by at most one turn', async () => {
    const { queues } = setup(100);
    const { held } = await fill(queues);
    const order: string[] = [];
    const flood = Array.from({ length: 10 }, () => queues.acquire(req('flooder')).then((release) => { order.push('flooder'); return release; }));
    const polite = queues.acquire(req('polite')).then((release) => { order.push('polite'); return release; });
    held[0]?.();
    held[1]?.();
    await flush();
    expect(order).toEqual(['flooder', 'polite']);
    (await polite)();
    for (const release of held.slice(2)) release();
    for (const pending of flood) (await pending)();
    expect(queues.stats().find((s) => s.level === 'global-default')).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('lets one user hold at most its share of a level\'s seats, so another user is seated at once', async () => {
    const { queues } = setup(100);
    const seats = queues.stats().find((s) => s.level === 'global-default')?.seats as number;
    const perUser = Math.ceil(seats * fairnessLimits.flowSeatsShareMax);
    expect(perUser).toBeLessThan(seats);
    let seated = 0;
    const greedy = Array.from({ length: seats }, () => queues.acquire(req('greedy')).then((release) => { seated++; return release; }));
    await flush();
    expect(seated).toBe(perUser);
    expect(queues.stats().find((s) => s.level === 'global-default')).toMatchObject({ inFlight: perUser, queued: seats - perUser });
    // Another user of the level finds a free seat although greedy's requests queue.
    const other = await queues.acquire(req('other'));
    other();
    // A released greedy seat goes to greedy's next waiter.
    (await greedy[0] as () => void)();
    await flush();
    expect(seated).toBe(perUser + 1);
  });

  it('refuses with 429 and Retry-After once a user has a full queue, and leaves other levels their seats', async () => {
    const { queues } = setup(100);
    await fill(queues);
    const waiting = Array.from({ length: fairnessLimits.flowQueueMax }, () => queues.acquire(req('flooder')));
    const refused = await queues.acquire(req('flooder')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).httpStatus).toBe(429);
    expect((refused as ApiError).message).toContain('global-default');
    // A node's heartbeat has its own seats and does not wait behind the flood.
    await expect(queues.acquire(req('system:node:n1', ['system:nodes'], 'leases', 'kube-node-lease'))).resolves.toBeTypeOf('function');
    await expect(queues.acquire(req('admin', ['system:masters']))).resolves.toBeTypeOf('function');
    void waiting;
  });

  it('times a queued request out with 429 after the queue wait bound', async () => {
    const { queues, clock } = setup(5);
    await fill(queues);
    const waiting = queues.acquire(req('b')).catch((error: unknown) => error);
    clock.advance(fairnessLimits.queueWaitMs);
    expect(((await waiting) as ApiError).httpStatus).toBe(429);
    expect(queues.stats().find((s) => s.level === 'global-default')?.queued).toBe(0);
  });
});
