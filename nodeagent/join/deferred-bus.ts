/**
 * A `Bus` the agent's parts get at once, connected later: after an agent restart with the control
 * plane (or NATS) unreachable, pods are restored from the checkpoint BEFORE the agent can connect
 * (issue 11 §6), so the parts must be built against a bus that is not there yet.
 *
 * Decision: until the real bus is attached, subscriptions are recorded and made on attach;
 * requests wait for the attach within their own timeout, then fail with BusTimeoutError, which is
 * what a disconnected NATS client does too (so callers need one path for "unreachable"); publish
 * and respond are dropped (fire-and-forget, as on a disconnected link, counted in `droppedPublishes`).
 */
import type { Bus, BusMessage, RequestOptions, SubscribeOptions, Subscription } from '../../bus/transport.js';
import { BusClosedError, BusTimeoutError } from '../../bus/errors.js';

export class DeferredBus implements Bus {
  private real: Bus | null = null;
  private closed = false;
  private readonly pending = new Set<DeferredSubscription>();
  private waiters: (() => void)[] = [];
  droppedPublishes = 0;

  constructor(readonly name: string) {}

  /** Hands over the connected bus: recorded subscriptions are made on it, waiting requests proceed. */
  attach(real: Bus): void {
    if (this.closed) {
      void real.close();
      return;
    }
    this.real = real;
    for (const subscription of this.pending) subscription.attach(real);
    this.pending.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  attached(): boolean {
    return this.real !== null;
  }

  publish(subject: string, data: Uint8Array): void {
    this.checkOpen();
    if (this.real === null) {
      this.droppedPublishes += 1;
      return;
    }
    this.real.publish(subject, data);
  }

  subscribe(subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions): Subscription {
    this.checkOpen();
    if (this.real !== null) return this.real.subscribe(subject, handler, options);
    const subscription = new DeferredSubscription(subject, handler, options, (self) => this.pending.delete(self));
    this.pending.add(subscription);
    return subscription;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    this.checkOpen();
    if (this.real !== null) return this.real.request(subject, data, options);
    const connected = await new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, options.timeoutMs);
      this.waiters.push(wake);
    });
    const real = this.attachedBus();
    if (!connected || real === null) throw new BusTimeoutError(subject, options.timeoutMs);
    // The wait and the request each stay within timeoutMs: at most twice it in all, never unbounded.
    return real.request(subject, data, options);
  }

  private attachedBus(): Bus | null {
    return this.real;
  }

  respond(message: BusMessage, data: Uint8Array): void {
    if (this.real === null || this.closed) return;
    this.real.respond(message, data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    await this.real?.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new BusClosedError(`bus ${this.name} is closed`);
  }
}

class DeferredSubscription implements Subscription {
  private real: Subscription | null = null;
  private active = true;

  constructor(readonly subject: string, private readonly handler: (message: BusMessage) => void, private readonly options: SubscribeOptions,
    private readonly onGone: (self: DeferredSubscription) => void) {}

  attach(bus: Bus): void {
    if (this.active) this.real = bus.subscribe(this.subject, this.handler, this.options);
  }

  unsubscribe(): void {
    this.active = false;
    this.onGone(this);
    this.real?.unsubscribe();
  }

  droppedCount(): number {
    return this.real?.droppedCount() ?? 0;
  }
}
