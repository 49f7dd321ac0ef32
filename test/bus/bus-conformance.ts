/**
 * The one conformance suite both `Bus` implementations pass (simulated network and NATS): what
 * every caller may rely on, whichever bus it was given. Each implementation supplies a harness
 * that knows how time passes for it (the simulated clock is advanced; NATS runs on real time).
 *
 * Absence is proven without sleeping: after the message that must not arrive, a sentinel is
 * published from the same connection; both buses keep one publisher's order to one subscriber,
 * so once the sentinel is in, the earlier message would have been too.
 */
import { describe, expect, it } from 'vitest';
import { BusClosedError, BusTimeoutError, NoRespondersError, type Bus, type BusMessage } from '../../bus/index.js';

export interface BusHarness {
  connect(name: string): Promise<Bus>;
  /** Lets time pass until `condition()` holds; fails after `timeoutMs` of the bus's time. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<void>;
  /** Lets time pass until `promise` settles, and returns its outcome. */
  settle<T>(promise: Promise<T>, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const read = (message: BusMessage): string => new TextDecoder().decode(message.data);
const options = { pendingMax: 100 };

async function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
}

export function describeBusConformance(name: string, makeHarness: () => Promise<BusHarness>): void {
  describe(`${name} conforms to Bus`, () => {
    const withHarness = (title: string, body: (harness: BusHarness) => Promise<void>): void => {
      it(title, async () => {
        const harness = await makeHarness();
        try {
          await body(harness);
        } finally {
          await harness.close();
        }
      });
    };

    withHarness('delivers by NATS wildcard rules, in publish order, with bytes intact', async (harness) => {
      const a = await harness.connect('a');
      const b = await harness.connect('b');
      const star: string[] = [];
      const tail: string[] = [];
      const exact: string[] = [];
      b.subscribe('t.*.x', (m) => star.push(`${m.subject}=${read(m)}`), options);
      b.subscribe('t.>', (m) => tail.push(m.subject), options);
      b.subscribe('t.one.x', (m) => exact.push(read(m)), options);
      await harness.waitFor(() => true, 50);
      a.publish('t.one.x', text('1'));
      a.publish('t.two.x', text('2'));
      a.publish('t.one.x.deeper', text('3'));
      a.publish('u.one.x', text('4'));
      a.publish('t.end', text('sentinel'));
      await harness.waitFor(() => tail.includes('t.end'), 2_000);
      expect(star).toEqual(['t.one.x=1', 't.two.x=2']);
      expect(exact).toEqual(['1']);
      expect(tail).toEqual(['t.one.x', 't.two.x', 't.one.x.deeper', 't.end']);

      const binary = new Uint8Array([0, 255, 1, 254, 128]);
      let received: Uint8Array | null = null;
      b.subscribe('bin', (m) => { received = m.data; }, options);
      await harness.waitFor(() => true, 50);
      a.publish('bin', binary);
      await harness.waitFor(() => received !== null, 2_000);
      expect([...(received as unknown as Uint8Array)]).toEqual([...binary]);
    });

    withHarness('gives each message to one member of a queue group and to every plain subscriber', async (harness) => {
      const publisher = await harness.connect('p');
      const workers = [await harness.connect('w1'), await harness.connect('w2')];
      const byWorker = [0, 0];
      let plain = 0;
      workers.forEach((worker, index) => worker.subscribe('jobs', () => { byWorker[index] = (byWorker[index] ?? 0) + 1; }, { ...options, queue: 'g' }));
      workers[0]?.subscribe('jobs', () => { plain++; }, options);
      await harness.waitFor(() => true, 50);
      for (let i = 0; i < 40; i++) publisher.publish('jobs', text(String(i)));
      await harness.waitFor(() => plain === 40 && (byWorker[0] ?? 0) + (byWorker[1] ?? 0) === 40, 2_000);
      expect((byWorker[0] ?? 0) + (byWorker[1] ?? 0)).toBe(40);
    });

    withHarness('answers a request through respond, and ignores respond without a reply subject', async (harness) => {
      const client = await harness.connect('client');
      const server = await harness.connect('server');
      const seen: (string | null)[] = [];
      server.subscribe('echo', (m) => {
        seen.push(m.reply);
        server.respond(m, text(`re:${read(m)}`));
      }, options);
      await harness.waitFor(() => true, 50);
      const reply = await harness.settle(client.request('echo', text('hi'), { timeoutMs: 2_000 }), 3_000);
      expect(new TextDecoder().decode(reply)).toBe('re:hi');
      client.publish('echo', text('no reply wanted'));
      await harness.waitFor(() => seen.length === 2, 2_000);
      expect(seen[1]).toBeNull();
    });

    withHarness('fails a request with NoRespondersError when nobody listens', async (harness) => {
      const client = await harness.connect('client');
      const result = await harness.settle(outcome(client.request('nobody.home', text('?'), { timeoutMs: 2_000 })), 3_000);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBeInstanceOf(NoRespondersError);
    });

    withHarness('fails a request with BusTimeoutError when the listener never answers', async (harness) => {
      const client = await harness.connect('client');
      const server = await harness.connect('server');
      let received = 0;
      server.subscribe('silent', () => { received++; }, options);
      await harness.waitFor(() => true, 50);
      const result = await harness.settle(outcome(client.request('silent', text('?'), { timeoutMs: 200 })), 3_000);
      expect(received).toBe(1);
      expect(!result.ok && result.error).toBeInstanceOf(BusTimeoutError);
      expect(!result.ok && (result.error as BusTimeoutError).timeoutMs).toBe(200);
    });

    withHarness('stops delivering after unsubscribe', async (harness) => {
      const a = await harness.connect('a');
      const b = await harness.connect('b');
      const got: string[] = [];
      const sentinel: string[] = [];
      const subscription = b.subscribe('s.data', (m) => got.push(read(m)), options);
      b.subscribe('s.sentinel', (m) => sentinel.push(read(m)), options);
      await harness.waitFor(() => true, 50);
      a.publish('s.data', text('before'));
      await harness.waitFor(() => got.length === 1, 2_000);
      subscription.unsubscribe();
      await harness.waitFor(() => true, 50);
      a.publish('s.data', text('after'));
      a.publish('s.sentinel', text('done'));
      await harness.waitFor(() => sentinel.length === 1, 2_000);
      expect(got).toEqual(['before']);
      expect(subscription.droppedCount()).toBe(0);
    });

    withHarness('refuses to publish or request once closed', async (harness) => {
      const bus = await harness.connect('closing');
      await bus.close();
      expect(() => bus.publish('x', text('1'))).toThrow(BusClosedError);
      const result = await outcome(bus.request('x', text('1'), { timeoutMs: 100 }));
      expect(!result.ok && result.error).toBeInstanceOf(BusClosedError);
      await bus.close();
    });
  });
}
