/**
 * An in-process network for the deterministic simulation: every connection is a `Bus`, every
 * delivery is a timer on the injected (simulated) clock, and every fault is drawn from the
 * injected Prng. Same seed and same inputs → same deliveries, in the same order, at the same
 * simulated instants.
 *
 * What it models, by connection name (members are named by id, clients by their own name):
 * - per-message drop, duplication and delay; independent delays reorder messages;
 * - symmetric partitions (`partition`), one-way blocks (`blockOneWay`), `heal`;
 * - stalls: `pause(name)` holds every message to or from the name (none is lost) until
 *   `resume(name)` delivers them, each with a fresh delay: what a stopped process or a stalled
 *   link looks like to its peers, including replies that arrive after the requester gave up;
 * - crashes: `disconnect(name)` removes the connection's subscriptions, forgets its pending
 *   requests and drops everything in flight to it; `reconnect(name)` lets it subscribe again;
 * - NATS semantics: `*`/`>` wildcards, queue groups (one member picked by the Prng),
 *   request/reply with BusTimeoutError on the simulated clock, NoRespondersError (after a
 *   network delay) when no subscription matches at all.
 *
 * Decision: routing is decided at publish time (who matches, which queue member, drop, copies,
 * delays) and delivery re-checks only that the receiver still exists: a message already "on the
 * wire" when a partition starts still arrives, as on a real network. Reachability is decided per
 * pair of names, not per server, because the simulated NATS server is the network itself.
 *
 * Decision: a crashed connection's pending requests are forgotten, never settled: a crashed
 * process observes nothing, and settling them would run callbacks of an actor that is gone.
 */
import type { Clock, TimerId } from './clock.js';
import type { Prng } from './prng.js';
import type { Bus, BusMessage, RequestOptions, SubscribeOptions, Subscription } from './transport.js';
import { assert } from './assert.js';
import { BusClosedError, BusTimeoutError, NoRespondersError } from './errors.js';
import { isValidSubject, subjectMatches } from './subjects.js';

export interface SimFaults {
  /** Probability that one delivery is lost. */
  readonly dropRate: number;
  /** Probability that one delivery arrives twice (each copy with its own delay). */
  readonly duplicateRate: number;
  /** Each delivery's delay is drawn uniformly from this range (inclusive). */
  readonly delayMs: { readonly min: number; readonly max: number };
}

export const simNetworkLimits = {
  /**
   * Messages held for paused names: a paused member's heartbeats and retries pile up while it is
   * paused (a few thousand per simulated second at most); beyond this the oldest are lost, as a
   * full socket buffer would lose them.
   */
  heldMessagesMax: 100_000,
} as const;

export const noFaults: SimFaults = { dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 1 } };

export interface SimNetworkOptions {
  readonly clock: Clock;
  readonly random: Prng;
  readonly faults?: SimFaults;
}

export interface SimNetworkStats {
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  held: number;
}

interface SimSubscriptionEntry {
  readonly id: number;
  readonly connection: SimConnection;
  readonly subject: string;
  readonly queue: string | null;
  readonly handler: (message: BusMessage) => void;
  active: boolean;
}

interface PendingRequest {
  readonly owner: SimConnection;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerId;
}

/** Inbox subjects live outside `kubus.` so no wildcard subscription of the cluster sees replies. */
const inboxPrefix = '_INBOX.';

export class SimNetwork {
  private readonly clock: Clock;
  private readonly random: Prng;
  private faults: SimFaults;
  private readonly connections: SimConnection[] = [];
  private readonly subscriptionEntries: SimSubscriptionEntry[] = [];
  /** Subscriptions matching a subject, by subject; emptied whenever a subscription comes or goes. */
  private readonly matchCache = new Map<string, SimSubscriptionEntry[]>();
  private readonly groupOf = new Map<string, number>();
  private readonly blocked = new Set<string>();
  private readonly down = new Set<string>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly paused = new Set<string>();
  /** Deliveries waiting for a paused sender or receiver, in the order they were due. */
  private held: { readonly from: string; readonly to: string; readonly deliver: () => void }[] = [];
  private nextSubscriptionId = 1;
  private nextInbox = 1;
  private readonly counters: SimNetworkStats = { published: 0, delivered: 0, dropped: 0, duplicated: 0, held: 0 };

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.faults = noFaults;
    if (options.faults !== undefined) this.setFaults(options.faults);
  }

  /** A new connection named `name`; several may share a name (they share its fault rules). */
  connect(name: string): Bus {
    assert(name.length > 0, 'SimNetwork.connect: empty connection name');
    const connection = new SimConnection(this, name);
    this.connections.push(connection);
    return connection;
  }

  setFaults(faults: SimFaults): void {
    assert(faults.dropRate >= 0 && faults.dropRate <= 1, `dropRate ${faults.dropRate} outside [0, 1]`);
    assert(faults.duplicateRate >= 0 && faults.duplicateRate <= 1, `duplicateRate ${faults.duplicateRate} outside [0, 1]`);
    assert(
      Number.isInteger(faults.delayMs.min) && Number.isInteger(faults.delayMs.max) && faults.delayMs.min >= 0 && faults.delayMs.min <= faults.delayMs.max,
      `delayMs ${JSON.stringify(faults.delayMs)} must be whole milliseconds with 0 <= min <= max`,
    );
    this.faults = { dropRate: faults.dropRate, duplicateRate: faults.duplicateRate, delayMs: { ...faults.delayMs } };
  }

  /**
   * Replaces any earlier partition: names in different groups cannot reach each other, either
   * way. Names in no group (clients, say) still reach everyone.
   */
  partition(groups: readonly (readonly string[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, index) => {
      for (const name of group) {
        assert(!this.groupOf.has(name), `SimNetwork.partition: ${name} is in two groups`);
        this.groupOf.set(name, index);
      }
    });
  }

  /** Messages from `from` to `to` are lost; the other direction is untouched. */
  blockOneWay(from: string, to: string): void {
    this.blocked.add(linkKey(from, to));
  }

  /** Removes partitions and one-way blocks (not the drop/duplicate/delay faults). */
  heal(): void {
    this.groupOf.clear();
    this.blocked.clear();
  }

  /** Ends every pause, delivering what was held. */
  resumeAll(): void {
    for (const name of [...this.paused]) this.resume(name);
  }

  /** Holds every message to or from `name` from now on (also those already on the wire) until `resume`. */
  pause(name: string): void {
    this.paused.add(name);
  }

  /** Delivers what was held for `name` (unless its peer is still paused), each with a fresh delay. */
  resume(name: string): void {
    if (!this.paused.delete(name)) return;
    const release = this.held.filter((item) => !this.paused.has(item.from) && !this.paused.has(item.to));
    this.held = this.held.filter((item) => this.paused.has(item.from) || this.paused.has(item.to));
    for (const item of release) this.clock.setTimeout(item.deliver, this.drawDelay());
  }

  isPaused(name: string): boolean {
    return this.paused.has(name);
  }

  /** A crash: the name's subscriptions are gone, its pending requests forgotten, messages to it dropped. */
  disconnect(name: string): void {
    this.down.add(name);
    for (const connection of this.connections) {
      if (connection.name === name) this.forget(connection, null);
    }
  }

  /** The name may receive again; subscriptions must be made anew, as after a process restart. */
  reconnect(name: string): void {
    this.down.delete(name);
  }

  canReach(from: string, to: string): boolean {
    if (from === to) return true;
    if (this.blocked.has(linkKey(from, to))) return false;
    const fromGroup = this.groupOf.get(from);
    const toGroup = this.groupOf.get(to);
    return fromGroup === undefined || toGroup === undefined || fromGroup === toGroup;
  }

  isConnected(name: string): boolean {
    return !this.down.has(name);
  }

  stats(): Readonly<SimNetworkStats> {
    return { ...this.counters };
  }

  // ---- used by SimConnection ----

  /** @internal */
  addSubscription(connection: SimConnection, subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions): Subscription {
    assert(isValidSubject(subject, { wildcards: true }), `invalid subscription subject ${JSON.stringify(subject)}`);
    assert(Number.isInteger(options.pendingMax) && options.pendingMax > 0, `pendingMax must be a positive integer on ${subject}`);
    const entry: SimSubscriptionEntry = {
      id: this.nextSubscriptionId++, connection, subject, queue: options.queue ?? null, handler, active: true,
    };
    this.subscriptionEntries.push(entry);
    this.matchCache.clear();
    const entries = this.subscriptionEntries;
    return {
      subject,
      unsubscribe: () => {
        entry.active = false;
        const index = entries.indexOf(entry);
        if (index >= 0) entries.splice(index, 1);
        this.matchCache.clear();
      },
      // Deliveries run one at a time on the clock and handlers are synchronous: nothing queues.
      droppedCount: () => 0,
    };
  }

  /** @internal */
  route(from: SimConnection, subject: string, data: Uint8Array, reply: string | null): void {
    assert(isValidSubject(subject, { wildcards: false }), `invalid publish subject ${JSON.stringify(subject)}`);
    this.counters.published++;
    if (this.down.has(from.name)) {
      this.counters.dropped++;
      return;
    }
    const pendingRequest = subject.startsWith(inboxPrefix) ? this.pending.get(subject) : undefined;
    if (pendingRequest !== undefined) {
      this.transmit(from.name, pendingRequest.owner, () => this.settleReply(subject, data));
      return;
    }
    // NATS delivers at most once: a request is never duplicated on the wire (only a client's own
    // retry can repeat it, which the client owns). Plain publishes are duplicated to stress the
    // layers above, such as Raft, that must tolerate repeats anyway.
    const duplicable = reply === null;
    for (const entry of this.receiversOf(subject)) {
      this.transmit(from.name, entry.connection, () => {
        if (!entry.active) return false;
        entry.handler({ subject, data: data.slice(), reply });
        return true;
      }, duplicable);
    }
  }

  /** @internal */
  request(from: SimConnection, subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    assert(options.timeoutMs > 0, `request timeout must be positive on ${subject}`);
    const inbox = `${inboxPrefix}${this.nextInbox++}`;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.pending.delete(inbox)) reject(new BusTimeoutError(subject, options.timeoutMs));
      }, options.timeoutMs);
      this.pending.set(inbox, { owner: from, resolve, reject, timer });
      if (this.receiversOf(subject, false).length === 0) {
        // As NATS does: the requester hears "no responders" after a round trip, not instantly.
        this.clock.setTimeout(() => this.failPending(inbox, new NoRespondersError(subject)), this.drawDelay());
        return;
      }
      this.route(from, subject, data, inbox);
    });
  }

  /** @internal Removes a connection's subscriptions and pending requests; rejects them with `error` if given. */
  forget(connection: SimConnection, error: Error | null): void {
    for (let i = this.subscriptionEntries.length - 1; i >= 0; i--) {
      const entry = this.subscriptionEntries[i] as SimSubscriptionEntry;
      if (entry.connection === connection) {
        entry.active = false;
        this.subscriptionEntries.splice(i, 1);
        this.matchCache.clear();
      }
    }
    for (const [inbox, request] of [...this.pending]) {
      if (request.owner !== connection) continue;
      this.pending.delete(inbox);
      this.clock.clearTimeout(request.timer);
      if (error !== null) request.reject(error);
    }
  }

  /**
   * Who gets a message on `subject`: every matching plain subscription, and one member per
   * matching queue group (picked by the Prng when `pick`, else the first, for a mere existence check).
   */
  private receiversOf(subject: string, pick = true): SimSubscriptionEntry[] {
    const receivers: SimSubscriptionEntry[] = [];
    const groups = new Map<string, SimSubscriptionEntry[]>();
    for (const entry of this.matching(subject)) {
      if (!entry.active || entry.connection.isClosed() || this.down.has(entry.connection.name)) continue;
      if (entry.queue === null) {
        receivers.push(entry);
        continue;
      }
      const group = groups.get(entry.queue) ?? [];
      group.push(entry);
      groups.set(entry.queue, group);
    }
    for (const group of groups.values()) receivers.push(pick ? this.random.pick(group) : group[0] as SimSubscriptionEntry);
    return receivers;
  }

  private matching(subject: string): readonly SimSubscriptionEntry[] {
    let entries = this.matchCache.get(subject);
    if (entries === undefined) {
      entries = this.subscriptionEntries.filter((entry) => subjectMatches(entry.subject, subject));
      // Reply inboxes are used once: caching them would only grow the map.
      if (!subject.startsWith(inboxPrefix)) this.matchCache.set(subject, entries);
    }
    return entries;
  }

  /** Sends one message over the link from `fromName` to `to`, applying the current faults. */
  private transmit(fromName: string, to: SimConnection, deliver: () => boolean, duplicable = true): void {
    if (!this.canReach(fromName, to.name) || this.random.chance(this.faults.dropRate)) {
      this.counters.dropped++;
      return;
    }
    const copies = duplicable && this.random.chance(this.faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let copy = 0; copy < copies; copy++) {
      const arrive = (): void => {
        if (this.paused.has(fromName) || this.paused.has(to.name)) {
          this.hold({ from: fromName, to: to.name, deliver: arrive });
          return;
        }
        if (to.isClosed() || this.down.has(to.name) || !deliver()) {
          this.counters.dropped++;
          return;
        }
        this.counters.delivered++;
      };
      this.clock.setTimeout(arrive, this.drawDelay());
    }
  }

  private hold(item: { readonly from: string; readonly to: string; readonly deliver: () => void }): void {
    if (this.held.length >= simNetworkLimits.heldMessagesMax) {
      this.held.shift();
      this.counters.dropped++;
    }
    this.held.push(item);
    this.counters.held++;
  }

  private settleReply(inbox: string, data: Uint8Array): boolean {
    const request = this.pending.get(inbox);
    if (request === undefined) return false; // timed out already, or a duplicate reply
    this.pending.delete(inbox);
    this.clock.clearTimeout(request.timer);
    request.resolve(data.slice());
    return true;
  }

  private failPending(inbox: string, error: Error): void {
    const request = this.pending.get(inbox);
    if (request === undefined) return;
    this.pending.delete(inbox);
    this.clock.clearTimeout(request.timer);
    request.reject(error);
  }

  private drawDelay(): number {
    return this.random.between(this.faults.delayMs.min, this.faults.delayMs.max);
  }
}

/** One connection to the simulated network: the `Bus` a member or client is given. */
class SimConnection implements Bus {
  private closed = false;

  constructor(private readonly network: SimNetwork, readonly name: string) {}

  isClosed(): boolean {
    return this.closed;
  }

  publish(subject: string, data: Uint8Array): void {
    if (this.closed) throw new BusClosedError(`connection ${this.name} is closed`);
    this.network.route(this, subject, data.slice(), null);
  }

  subscribe(subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions): Subscription {
    if (this.closed) throw new BusClosedError(`connection ${this.name} is closed`);
    return this.network.addSubscription(this, subject, handler, options);
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new BusClosedError(`connection ${this.name} is closed`));
    return this.network.request(this, subject, data.slice(), options);
  }

  respond(message: BusMessage, data: Uint8Array): void {
    if (message.reply === null || this.closed) return;
    this.network.route(this, message.reply, data.slice(), null);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.network.forget(this, new BusClosedError(`connection ${this.name} closed`));
    }
    return Promise.resolve();
  }
}

function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}
