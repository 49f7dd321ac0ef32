/**
 * The `Bus` over real NATS. This adapter is the only file that imports `nats`: why the dependency
 * is here is that NATS is the transport between processes; everything else sees only `Bus`.
 *
 * Decision: nats.js hands messages to a callback as they are parsed and keeps no bound; this
 * adapter puts each subscription's messages in a BoundedQueue (`pendingMax`) drained on
 * `setImmediate` in batches, so a slow handler sees counted drops (`droppedCount`, `onOverflow`)
 * instead of the process growing without limit, and socket parsing is never blocked by handlers.
 *
 * Decision: every connection authenticates as a minted user (nats-auth.ts): the server runs in
 * operator/JWT mode and refuses anonymous clients, so `user` is required, and a user whose inbox
 * is restricted connects with its `inboxPrefix`.
 *
 * Decision: a user whose JWT expires (a node agent's, renewed at 2/3 of its life) passes
 * `credentials`, a function read on every (re)connect, so a reconnect never presents an expired
 * JWT; `reconnect()` makes the connection present the newest one at once (the server would
 * otherwise cut it at the old JWT's expiry). Subscriptions survive a reconnect (nats.js resends them).
 *
 * Decision: every subscription handler runs inside an error boundary. A message is network input
 * that anyone allowed on the subject may have shaped; an exception (or rejected promise) from its
 * handler is logged and the message dropped, never the process. The one exception is an
 * AssertionError (assert.ts): an invariant broke, so it is rethrown outside the bus and the
 * process stops (fail-stop, RELIABILITY.md).
 */
import { connect, createInbox, ErrorCode, jwtAuthenticator, NatsError, type ConnectionOptions, type NatsConnection, type Subscription as NatsSubscription } from 'nats';
import type { Bus, BusMessage, RequestOptions, SubscribeOptions, Subscription } from './transport.js';
import { BoundedQueue } from './bounded-queue.js';
import { assert, AssertionError } from './assert.js';
import { BusClosedError, BusTimeoutError, KubusError, NoRespondersError, type ErrorFields } from './errors.js';
import { createJsonLogger, type Logger } from './logger.js';
import type { NatsUser } from './nats-auth.js';
import { RequestMux } from './request-mux.js';

export const natsBusLimits = {
  /** Messages one subscription hands to its handler before yielding to the event loop. */
  drainBatchMax: 256,
} as const;

export interface NatsBusOptions {
  readonly servers: readonly string[];
  /** Connection name, shown by the NATS server (`connz`) and in logs. */
  readonly name: string;
  /** Who connects: a user minted from the cluster's credentials (nats-credentials.ts). */
  readonly user: Pick<NatsUser, 'jwt' | 'seed' | 'inboxPrefix'>;
  /**
   * The newest JWT and seed of the same user (same name, so the same inbox prefix), read on every
   * connect and reconnect; `user`'s are used when absent.
   */
  readonly credentials?: () => { readonly jwt: string; readonly seed: string };
  /** The first connection must succeed within this time (BusConnectError). */
  readonly connectTimeoutMs: number;
  /** Whether to reconnect forever after losing the server (members: yes; one-shot CLI: no). */
  readonly reconnect: boolean;
  /**
   * Told about an exception thrown (or promise rejected) by a subscription handler, after it is
   * logged; the message is dropped either way. AssertionErrors never come here: they stop the process.
   */
  readonly onHandlerError?: (error: unknown, subject: string) => void;
  /**
   * Told about disconnects, reconnects, server errors and handler errors, so an operator sees a
   * flapping link or a poisoned subject; warnings on stderr when absent.
   */
  readonly logger?: Logger;
  /**
   * Told about the server refusing this connection's user (`authorization`: revoked, expired or
   * unknown JWT), so a holder of renewable credentials fetches new ones instead of letting
   * nats.js retry the refused JWT forever.
   */
  readonly onAuthRefused?: (detail: string) => void;
}

export class BusConnectError extends KubusError {
  override readonly name = 'BusConnectError';
  readonly code = 'busConnect';
  constructor(readonly servers: readonly string[], detail: string, options?: { cause: unknown }) {
    super(`cannot connect to NATS at ${servers.join(', ')}: ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { servers: [...this.servers] };
  }
}

/** The server refused a request because this connection's user may not publish to its subject. */
export class BusPermissionError extends KubusError {
  override readonly name = 'BusPermissionError';
  readonly code = 'busPermission';
  constructor(readonly subject: string, options?: { cause: unknown }) {
    super(`this NATS user may not publish to ${subject}`, options);
  }
  override fields(): ErrorFields {
    return { subject: this.subject };
  }
}

export class MessageTooLargeError extends KubusError {
  override readonly name = 'MessageTooLargeError';
  readonly code = 'messageTooLarge';
  constructor(readonly subject: string, readonly sizeBytes: number, readonly maxPayloadBytes: number) {
    super(`message of ${sizeBytes} bytes on ${subject} exceeds the server's max_payload of ${maxPayloadBytes} bytes`);
  }
  override fields(): ErrorFields {
    return { subject: this.subject, sizeBytes: this.sizeBytes, maxPayloadBytes: this.maxPayloadBytes };
  }
}

export class NatsBus implements Bus {
  private closed = false;
  private readonly subscriptions = new Set<NatsSubscriptionBridge>();
  private readonly handlerErrors: HandlerErrorSink;
  private readonly log: Logger;
  private readonly flushPending: () => void;
  /** Request/reply table over one inbox subscription (request-mux.ts), made on the first request. */
  private requests: RequestMux | null = null;

  private constructor(private readonly connection: NatsConnection, readonly name: string, private readonly options: NatsBusOptions) {
    const protocol = (connection as unknown as { protocol?: { flushPending?: unknown } }).protocol;
    this.flushPending = protocol !== undefined && typeof protocol.flushPending === 'function'
      ? () => (protocol.flushPending as () => void).call(protocol)
      : () => undefined;
    const log = (options.logger ?? createJsonLogger({ level: 'warn' })).child({ bus: name });
    this.log = log;
    this.handlerErrors = (error, subject) => {
      log.error('subscription handler failed; message dropped', { subject, error });
      options.onHandlerError?.(error, subject);
    };
  }

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    assert(options.servers.length > 0, 'NatsBus.connect: no servers given');
    const connectionOptions: ConnectionOptions = {
      servers: [...options.servers],
      name: options.name,
      timeout: options.connectTimeoutMs,
      reconnect: options.reconnect,
      // -1: members keep trying for as long as they run; the store tolerates the gap.
      maxReconnectAttempts: options.reconnect ? -1 : 0,
      authenticator: authenticatorFor(options),
      // nats.js otherwise builds two Errors per request (a stack for an async trace, a timeout
      // error made in advance): a fifth of a busy store client's CPU. Its errors become ours
      // (translate) anyway, so their stacks would go unread.
      noAsyncTraces: true,
      ...(options.user.inboxPrefix !== null ? { inboxPrefix: options.user.inboxPrefix } : {}),
    };
    let connection: NatsConnection;
    try {
      connection = await connect(connectionOptions);
    } catch (error) {
      throw new BusConnectError(options.servers, error instanceof Error ? error.message : String(error), { cause: error });
    }
    const bus = new NatsBus(connection, options.name, options);
    const reporting = options.logger !== undefined || options.onAuthRefused !== undefined;
    void bus.watchStatus(reporting ? options.logger ?? createJsonLogger({ level: 'warn' }) : null);
    return bus;
  }

  /**
   * Until the connection closes: fails a request whose publish the server refused (it says so only
   * here), and logs status changes when asked to (pings and the like are left out).
   */
  private async watchStatus(logger: Logger | null): Promise<void> {
    const log = logger?.child({ bus: this.name }) ?? null;
    for await (const status of this.connection.status()) {
      const refused = status.permissionContext;
      if (status.type === 'error' && refused !== undefined && refused.operation === 'publish') {
        this.requests?.onPublishRefused(refused.subject, new BusPermissionError(refused.subject));
      }
      if (log === null) continue;
      const fields = { type: status.type, data: typeof status.data === 'object' ? JSON.stringify(status.data) : status.data };
      if (status.type === 'disconnect' || status.type === 'error') log.warn('nats connection status', fields);
      if (status.type === 'error' && typeof status.data === 'string' && /AUTHORIZATION|AUTHENTICATION/.test(status.data)) this.options.onAuthRefused?.(status.data);
      else if (status.type === 'reconnect' || status.type === 'ldm') log.info('nats connection status', fields);
    }
  }

  /**
   * Drops the connection and connects again at once with the newest `credentials` (renewed
   * JWT); subscriptions are resent, a request in flight may fail with a timeout or BusClosedError.
   */
  async reconnect(): Promise<void> {
    this.checkOpen();
    await this.connection.reconnect();
  }

  /** The largest message the server accepts, as it announced on connect. */
  maxPayloadBytes(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  /** Resolves once the server has processed everything sent so far (subscriptions included). */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.connection.flush();
  }

  /**
   * Writes nats.js's outbound buffer to the socket now instead of in its end-of-task microtask.
   * Reaches into nats.js's protocol handler (`flushPending`, public in its JavaScript but not in
   * its types); with a nats.js version that lacks it, publishes go out at the end of the task.
   */
  sendPending(): void {
    if (this.closed) return;
    this.flushPending();
  }

  publish(subject: string, data: Uint8Array): void {
    this.checkOpen();
    try {
      this.connection.publish(subject, data);
    } catch (error) {
      throw this.translate(error, subject, data, 0);
    }
  }

  subscribe(subject: string, handler: (message: BusMessage) => void, options: SubscribeOptions): Subscription {
    this.checkOpen();
    const bridge = new NatsSubscriptionBridge(subject, handler, options, this.handlerErrors, (self) => this.subscriptions.delete(self));
    bridge.attach(this.connection.subscribe(subject, {
      ...(options.queue !== undefined ? { queue: options.queue } : {}),
      callback: (error, message) => {
        if (error !== null) {
          // The server refused it (permissions): the subscription ends; say so, or it looks idle.
          this.log.warn('subscription refused by the server', { subject, error: error.message });
          return;
        }
        bridge.offer({ subject: message.subject, data: message.data, reply: message.reply !== undefined && message.reply !== '' ? message.reply : null });
      },
    }));
    this.subscriptions.add(bridge);
    return bridge;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    this.checkOpen();
    // Below a millisecond no reply can arrive (nats.js refused such timeouts too).
    if (!(options.timeoutMs >= 1)) throw new BusTimeoutError(subject, options.timeoutMs);
    return this.requestTable().request(subject, data, options.timeoutMs);
  }

  /** The request table and its inbox subscription, made once; made again if the server refused the subscription. */
  private requestTable(): RequestMux {
    if (this.requests !== null) return this.requests;
    const inbox = createInbox(this.options.user.inboxPrefix ?? undefined);
    const table = new RequestMux(inbox, (subject, data, reply) => {
      try {
        this.connection.publish(subject, data, { reply });
      } catch (error) {
        throw this.translate(error, subject, data, 0);
      }
    });
    const tokenStart = inbox.length + 1;
    this.connection.subscribe(`${inbox}.*`, {
      callback: (error, message) => {
        if (error !== null) {
          // Not allowed on this inbox: what waits fails now, and the next request tries again.
          this.log.warn('request inbox refused by the server', { inbox, error: error.message });
          if (this.requests === table) this.requests = null;
          table.failAll(new BusPermissionError(`${inbox}.*`, { cause: error }));
          return;
        }
        // The server answers a request nobody listens to with an empty 503 status message.
        const noResponders = message.data.length === 0 && message.headers?.code === 503;
        table.onReply(message.subject.slice(tokenStart), noResponders ? null : message.data);
      },
    });
    this.requests = table;
    return table;
  }

  respond(message: BusMessage, data: Uint8Array): void {
    if (message.reply === null || this.closed) return;
    this.publish(message.reply, data);
  }

  /** Flushes what was published, stops every subscription and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.requests?.failAll(new BusClosedError(`NATS connection ${this.name} is closed`));
    for (const bridge of [...this.subscriptions]) bridge.discard();
    try {
      await this.connection.drain();
    } catch {
      // Already closed (server gone, or closed by nats.js itself): nothing left to flush.
    }
    await this.connection.closed();
  }

  private checkOpen(): void {
    if (this.closed || this.connection.isClosed()) throw new BusClosedError(`NATS connection ${this.name} is closed`);
  }

  private translate(error: unknown, subject: string, data: Uint8Array, timeoutMs: number): Error {
    if (!(error instanceof NatsError)) return error instanceof Error ? error : new Error(String(error));
    switch (error.code) {
      case ErrorCode.NoResponders:
        return new NoRespondersError(subject);
      case ErrorCode.Timeout:
        return new BusTimeoutError(subject, timeoutMs);
      case ErrorCode.PermissionsViolation:
        return new BusPermissionError(subject, { cause: error });
      case ErrorCode.MaxPayloadExceeded:
        return new MessageTooLargeError(subject, data.byteLength, this.maxPayloadBytes());
      case ErrorCode.ConnectionClosed:
      case ErrorCode.ConnectionDraining:
        return new BusClosedError(`NATS connection ${this.name} is closed (${error.message})`);
      default:
        return error;
    }
  }
}

/** One subscription: nats.js callback → bounded queue → the handler, one message at a time. */
class NatsSubscriptionBridge implements Subscription {
  private readonly queue: BoundedQueue<BusMessage>;
  private natsSubscription: NatsSubscription | null = null;
  private drainScheduled = false;
  private active = true;

  constructor(
    readonly subject: string,
    private readonly handler: (message: BusMessage) => void,
    private readonly options: SubscribeOptions,
    private readonly onHandlerError: HandlerErrorSink,
    private readonly onGone: (self: NatsSubscriptionBridge) => void,
  ) {
    this.queue = new BoundedQueue(`subscription ${subject}`, options.pendingMax);
  }

  attach(subscription: NatsSubscription): void {
    this.natsSubscription = subscription;
  }

  offer(message: BusMessage): void {
    if (!this.active) return;
    if (!this.queue.offer(message)) {
      this.options.onOverflow?.(this.queue.droppedCount());
      return;
    }
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => this.drain());
    }
  }

  unsubscribe(): void {
    if (!this.active) return;
    this.discard();
    this.natsSubscription?.unsubscribe();
  }

  /** Stops delivering without touching the NATS subscription (the connection is draining it). */
  discard(): void {
    this.active = false;
    this.queue.drain();
    this.onGone(this);
  }

  droppedCount(): number {
    return this.queue.droppedCount();
  }

  private drain(): void {
    this.drainScheduled = false;
    try {
      for (let handled = 0; handled < natsBusLimits.drainBatchMax && this.active; handled++) {
        const message = this.queue.shift();
        if (message === undefined) break;
        this.deliver(message);
      }
    } finally {
      if (this.active && this.queue.size > 0 && !this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => this.drain());
      }
    }
  }

  /** The error boundary (see the header): a handler's failure costs its message, not the process. */
  private deliver(message: BusMessage): void {
    let result: unknown;
    try {
      result = this.handler(message);
    } catch (error) {
      if (error instanceof AssertionError) throw error; // fail-stop: uncaught in this setImmediate
      this.onHandlerError(error, this.subject);
      return;
    }
    // A handler typed `=> void` may still be async: its rejection would otherwise end Node 20.
    if (isPromiseLike(result)) {
      result.then(undefined, (error: unknown) => {
        if (error instanceof AssertionError) {
          setImmediate(() => {
            throw error;
          });
          return;
        }
        this.onHandlerError(error, this.subject);
      });
    }
  }
}

function authenticatorFor(options: NatsBusOptions): ReturnType<typeof jwtAuthenticator> {
  const current = options.credentials ?? (() => options.user);
  return jwtAuthenticator(() => current().jwt, () => new TextEncoder().encode(current().seed));
}

type HandlerErrorSink = (error: unknown, subject: string) => void;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
