/**
 * The work queue keeps client-go's promises: a key queued twice is handed out once; a key being
 * worked on is not handed to a second worker and, re-added meanwhile, runs again after `done`;
 * failed keys wait 5 ms · 2^n (capped at 1000 s) or for the overall 10 qps / burst 100 bucket,
 * whichever is longer; after maxRetries the runtime records a ReconcileFailed Warning Event.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import { RateLimitedWorkQueue } from '../../../actors/controllers/runtime/work-queue.js';
import { ControllerRateLimiter, itemBackoffMs } from '../../../actors/controllers/runtime/rate-limiter.js';
import { processKey } from '../../../actors/controllers/runtime/controller-actor.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, InformerFactory } from '../../../actors/controllers/runtime/types.js';
import type { KubeObject } from '../../../actors/objects/meta.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });
const queue = (clock = new SimulatedClock()) => new RateLimitedWorkQueue({ name: 'test', clock, logger });

describe('work queue', () => {
  test('a key added twice before a worker takes it is handed out once', async () => {
    const q = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  test('a key in progress is not handed out again until done, then runs once more', async () => {
    const q = queue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0);
    let second: string | null = 'none';
    void q.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBe('none');
    q.done('a');
    await Promise.resolve();
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  test('addAfter delivers at the due time, and the earlier of two delays wins', async () => {
    const clock = new SimulatedClock();
    const q = queue(clock);
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    clock.advance(49);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(1000);
    expect(q.length).toBe(1);
  });

  test('shutDown wakes waiting workers with null and drops delayed keys', async () => {
    const clock = new SimulatedClock();
    const q = queue(clock);
    const waiting = q.get();
    q.addAfter('x', 10);
    q.shutDown();
    expect(await waiting).toBeNull();
    clock.advance(20);
    expect(q.length).toBe(0);
  });

  test('the queue refuses keys beyond its bound', () => {
    const q = new RateLimitedWorkQueue({ name: 'small', clock: new SimulatedClock(), logger, keysMax: 2 });
    q.add('a');
    q.add('b');
    q.add('c');
    expect(q.length).toBe(2);
  });
});

describe('rate limiter', () => {
  test('per-item backoff: 5 ms doubling, capped at 1000 s', () => {
    expect([0, 1, 2, 3, 10].map((n) => itemBackoffMs(n))).toEqual([5, 10, 20, 40, 5120]);
    expect(itemBackoffMs(17)).toBe(655_360);
    expect(itemBackoffMs(18)).toBe(1_000_000);
    expect(itemBackoffMs(5000)).toBe(1_000_000);
  });

  test('failures of one key grow its delay; forget resets it; other keys are independent', () => {
    const limiter = new ControllerRateLimiter(new SimulatedClock());
    expect([limiter.when('a'), limiter.when('a'), limiter.when('a')]).toEqual([5, 10, 20]);
    expect(limiter.numRequeues('a')).toBe(3);
    expect(limiter.when('b')).toBe(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  test('the overall bucket: 100 retries at once pass, the next wait 100 ms each (10 qps)', () => {
    const clock = new SimulatedClock();
    const limiter = new ControllerRateLimiter(clock);
    const delays = Array.from({ length: 103 }, (_, i) => limiter.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays.slice(100)).toEqual([100, 200, 300]);
    clock.advance(1_000); // 10 tokens back: the 3 borrowed and 7 more
    expect(limiter.when('later')).toBe(5);
  });
});

describe('retries and give-up', () => {
  function harness(maxRetries: number, fail: () => boolean) {
    const clock = new SimulatedClock();
    const q = queue(clock);
    const events: string[] = [];
    const object: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
    const informers: InformerFactory = {
      informer: () => ({ get: (key: string) => (key === 'default/web' ? object : undefined) }) as never,
      waitForSync: async () => undefined,
    };
    const ctx = {
      informers, clock, logger, options: {}, api: {} as never,
      events: { record: (o: KubeObject, type: string, reason: string, message: string) => events.push(`${type} ${reason} ${o.kind}/${o.metadata.name}: ${message}`) },
    } as unknown as ControllerContext;
    let attempts = 0;
    const spec: ControllerSpec = {
      name: 'deployment', resource: refs.deployments, watch: () => undefined,
      reconcile: async () => {
        attempts++;
        if (fail()) throw new Error('boom');
      },
    };
    const input = { spec, ctx, queue: q, workers: 1, maxRetries, fallbackObject: object };
    const run = async (): Promise<void> => {
      const key = await q.get();
      if (key === null) return;
      await processKey(input, key);
      q.done(key);
    };
    return { clock, q, events, run, attempts: () => attempts };
  }

  test('a failing key is retried with backoff maxRetries times, then one Warning ReconcileFailed Event and forgotten', async () => {
    const h = harness(3, () => true);
    h.q.add('default/web');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await h.run();
      let waited = 0;
      while (h.q.length === 0 && waited < 1000) {
        h.clock.advance(1);
        waited++;
      }
      delays.push(waited);
    }
    expect(h.attempts()).toBe(4);
    expect(delays.slice(0, 3)).toEqual([5, 10, 20]);
    expect(h.q.length).toBe(0); // given up: not queued again
    expect(h.q.numRequeues('default/web')).toBe(0);
    expect(h.events).toEqual(['Warning ReconcileFailed Deployment/web: deployment gave up on default/web after 3 retries: boom']);
  });

  test('a key that succeeds after failures is forgotten: its next failure starts at 5 ms again', async () => {
    let failing = true;
    const h = harness(15, () => failing);
    h.q.add('default/web');
    await h.run();
    h.clock.advance(5);
    await h.run();
    expect(h.q.numRequeues('default/web')).toBe(2);
    failing = false;
    h.clock.advance(10);
    await h.run();
    expect(h.q.numRequeues('default/web')).toBe(0);
    expect(h.events).toEqual([]);
  });
});
