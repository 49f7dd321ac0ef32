/**
 * The agent's `Bus`: given to the parts at once, connected later, and moved from one NATS
 * connection to the next without them noticing.
 *
 * Decision (connected later): after an agent restart with the control plane (or NATS)
 * unreachable, pods are restored from the checkpoint BEFORE the agent can connect (issue 11 §6),
 * so the parts are built against a bus that is not there yet. Until the first connection is
 * attached, subscriptions are recorded and made on attach; requests wait for it within their own
 * timeout, then fail with BusTimeoutError, which is what a disconnected NATS client does too (one
 * path for "unreachable" in the callers); publishes are dropped (fire-and-forget, as on a
 * disconnected link; counted in `droppedPublishes`).
 *
 * Decision (moved, make before break): renewed NATS credentials need a new connection (NATS cannot
 * re-authenticate a connection). A reconnect of the same connection loses the replies of requests
 * in flight (measured: a Lease renewal timed out after 10 s). So `handOver(next)` makes every
 * subscription on the new connection, waits until the server has them (flush), and only then
 * unsubscribes them on the old one; new requests and publishes go to the new connection at once,
 * and the caller closes the old one later, after its requests had their time. A message published
 * in the overlap may arrive twice; every subscriber here tolerates that (the assignment stream's
 * numbers, idempotent rpc reads). A request is answered on the connection that received it (the
 * server allows a response only there).
 */
import type { Bus, BusMessage, RequestOptions, SubscribeOptions, Subscription } from '../../bus/transport.js';
import { BusClosedError, BusTimeoutError } from '../../bus/errors.js';

/** A bus that can tell when the server has processed everything sent (NatsBus). */
type Flushable = Bus & { flush?: () => Promise<void> };

export class DeferredBus implements Bus {
  private real: Flushable | null = null;
  private closed = false;
  private readonly subscriptions = new Set<MovableSubscription>();
  private waiters: (() => void)[] = [];
  /** Which connection delivered a request: its answer must leave through it. */
  private readonly deliveredBy = new WeakMap<BusMessage, Bus>();
  droppedPublishes = 0;

  constructor(readonly name: string) {}

  /** The first connection: recorded subscriptions are made on it, waiting requests proceed. */
  attach(real: Flushable): void {
    if (this.closed) {
      void real.close();
      return;
    }
    this.real = real;
    for (const subscription of this.subscriptions) subscription.moveTo(real);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Moves everything to `next` (see the header); returns the previous connection for the caller
   * to close once its requests in flight had their time.
   */
  async handOver(next: Flushable): Promise<Bus | null> {
    const previous = this.real;
    if (previous === null) {
      this.attach(next);
      return null;
    }
    if (this.closed) {
      await next.close();
      return null;
    }
    this.real = next;
    const released = [...this.subscriptions].map((subscription) => subscription.moveTo(next));
    await next.flush?.();
    for (const release of released) release();
    return previous;
  }

  /** Whether `bus` is the connection traffic goes to now. */
  isCurrent(bus: Bus): boolean {
    return this.real === bus;
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
    const subscription = new MovableSubscription(subject, handler, options, this.deliveredBy, (self) => this.subscriptions.delete(self));
    this.subscriptions.add(subscription);
    if (this.real !== null) subscription.moveTo(this.real);
    return subscription;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    this.checkOpen();
    const ready = this.real;
    if (ready !== null) return ready.request(subject, data, options);
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
    if (this.closed) return;
    const via = this.deliveredBy.get(message) ?? this.real;
    via?.respond(message, data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of [...this.subscriptions]) subscription.unsubscribe();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    await this.real?.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new BusClosedError(`bus ${this.name} is closed`);
  }
}

/** One subscription of a part, made on whichever connection is current. */
class MovableSubscription implements Subscription {
  private current: Subscription | null = null;
  private droppedBefore = 0;
  private active = true;

  constructor(readonly subject: string, private readonly handler: (message: BusMessage) => void, private readonly options: SubscribeOptions,
    private readonly deliveredBy: WeakMap<BusMessage, Bus>, private readonly onGone: (self: MovableSubscription) => void) {}

  /** Subscribes on `bus`; returns the release of the previous connection's subscription (the caller calls it once the new one is in place). */
  moveTo(bus: Bus): () => void {
    if (!this.active) return () => {};
    const previous = this.current;
    this.current = bus.subscribe(this.subject, (message) => {
      this.deliveredBy.set(message, bus);
      return this.handler(message);
    }, this.options);
    return () => {
      if (previous === null) return;
      this.droppedBefore += previous.droppedCount();
      previous.unsubscribe();
    };
  }

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.onGone(this);
    this.current?.unsubscribe();
  }

  droppedCount(): number {
    return this.droppedBefore + (this.current?.droppedCount() ?? 0);
  }
}
