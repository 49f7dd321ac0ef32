/**
 * The agent's bus before and across connections: subscriptions made before NATS answers start
 * on attach; a request waits for the attach within its timeout; a hand-over subscribes on the new
 * connection before leaving the old one, sends new traffic to the new one, and answers a request
 * on the connection that delivered it.
 */
import { describe, expect, it } from 'vitest';
import type { Bus, BusMessage, SubscribeOptions, Subscription } from '../../bus/transport.js';
import { BusTimeoutError } from '../../bus/errors.js';
import { DeferredBus } from '../../nodeagent/join/index.js';

class FakeBus implements Bus {
  readonly handlers = new Map<string, ((message: BusMessage) => void)[]>();
  readonly published: string[] = [];
  readonly log: string[] = [];
  closed = false;
  constructor(readonly name: string) {}
  publish(subject: string): void {
    this.published.push(subject);
  }
  subscribe(subject: string, handler: (message: BusMessage) => void, _options: SubscribeOptions): Subscription {
    this.handlers.set(subject, [...(this.handlers.get(subject) ?? []), handler]);
    this.log.push(`sub ${subject}`);
    return {
      subject, droppedCount: () => 0,
      unsubscribe: () => {
        this.log.push(`unsub ${subject}`);
        this.handlers.set(subject, (this.handlers.get(subject) ?? []).filter((h) => h !== handler));
      },
    };
  }
  async request(subject: string): Promise<Uint8Array> {
    return new TextEncoder().encode(`${this.name}:${subject}`);
  }
  respond(message: BusMessage): void {
    this.published.push(`reply ${message.reply}`);
  }
  async flush(): Promise<void> {
    this.log.push('flush');
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  deliver(subject: string, reply: string | null = null): void {
    for (const handler of this.handlers.get(subject) ?? []) handler({ subject, data: new Uint8Array(), reply });
  }
}

const options = { pendingMax: 10 };

describe('DeferredBus', () => {
  it('records subscriptions until attached and drops publishes meanwhile', () => {
    const bus = new DeferredBus('node-n1');
    const seen: string[] = [];
    bus.subscribe('a', (m) => seen.push(m.subject), options);
    bus.publish('x', new Uint8Array());
    expect(bus.droppedPublishes).toBe(1);
    const real = new FakeBus('one');
    bus.attach(real);
    real.deliver('a');
    expect(seen).toEqual(['a']);
  });

  it('lets a request wait for the connection within its timeout, else BusTimeoutError', async () => {
    const bus = new DeferredBus('node-n1');
    await expect(bus.request('api', new Uint8Array(), { timeoutMs: 20 })).rejects.toBeInstanceOf(BusTimeoutError);
    const waiting = bus.request('api', new Uint8Array(), { timeoutMs: 5_000 });
    bus.attach(new FakeBus('one'));
    expect(new TextDecoder().decode(await waiting)).toBe('one:api');
  });

  it('hands over make-before-break and answers on the delivering connection', async () => {
    const bus = new DeferredBus('node-n1');
    const one = new FakeBus('one');
    bus.attach(one);
    const received: BusMessage[] = [];
    const subscription = bus.subscribe('rpc', (m) => received.push(m), options);
    const two = new FakeBus('two');
    one.deliver('rpc', 'inbox-1');
    const previous = await bus.handOver(two);
    expect(previous).toBe(one);
    expect(two.log).toEqual(['sub rpc', 'flush']);
    expect(one.log).toEqual(['sub rpc', 'unsub rpc']);
    two.deliver('rpc', 'inbox-2');
    bus.respond(received[0] as BusMessage, new Uint8Array());
    bus.respond(received[1] as BusMessage, new Uint8Array());
    expect(one.published).toEqual(['reply inbox-1']);
    expect(two.published).toEqual(['reply inbox-2']);
    expect(new TextDecoder().decode(await bus.request('api', new Uint8Array(), { timeoutMs: 100 }))).toBe('two:api');
    subscription.unsubscribe();
    expect(two.log.at(-1)).toBe('unsub rpc');
    await bus.close();
    expect(two.closed).toBe(true);
  });
});
