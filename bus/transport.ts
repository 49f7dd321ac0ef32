/**
 * The bus seam: what every component needs from a message bus, nothing more. Two
 * implementations share one conformance suite: `NatsBus` (real NATS) and the simulated network's
 * connections (`SimNetwork.connect`), which deliver on simulated time with injected faults.
 *
 * Decision: subscriptions are bounded here, not by the caller, because both NATS client queues
 * and XState mailboxes are unbounded by default; overflow drops the newest message and is
 * reported, so a slow consumer degrades into message loss that Raft already tolerates.
 */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** The inbox to answer on, for requests. */
  readonly reply: string | null;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  readonly queue?: string;
  /** Messages waiting for the handler beyond which new ones are dropped. */
  readonly pendingMax: number;
  readonly onOverflow?: (droppedTotal: number) => void;
}

export interface Subscription {
  readonly subject: string;
  unsubscribe(): void;
  /** Messages dropped so far because `pendingMax` was reached. */
  droppedCount(): number;
}

export interface RequestOptions {
  /** The request fails with BusTimeoutError when no reply arrives in this time. */
  readonly timeoutMs: number;
}

export interface Bus {
  /** A name for logs and for the simulated network's fault rules. */
  readonly name: string;
  publish(subject: string, data: Uint8Array): void;
  /**
   * Hands what was published so far to the network now. A bus may hold publishes until the end of
   * the current task (nats.js writes its buffer in a microtask): a caller about to block (an fsync)
   * after publishing calls this so the messages travel while it waits. A bus that sends at once
   * (the simulated network) need not implement it.
   */
  sendPending?(): void;
  subscribe(subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions): Subscription;
  /** Fails with BusTimeoutError, NoRespondersError or BusClosedError; never hangs past the timeout. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array>;
  /** Answers a request received through `subscribe`; a message without `reply` is ignored. */
  respond(message: BusMessage, data: Uint8Array): void;
  /** Flushes what was published and disconnects. */
  close(): Promise<void>;
}
