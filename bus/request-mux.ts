/**
 * Request/reply for NatsBus over one wildcard inbox per connection: each request publishes with
 * the reply subject `<inbox>.<token>` and waits in a table for the reply with that token.
 *
 * Decision: ours rather than nats.js's `request()`. nats.js builds an Error on every request that
 * succeeds (it rejects its settled promise with a fresh `Cancelled` NatsError, stack and all) plus a
 * timer promise: about a third of a store client's CPU per call at 256 clients. This table keeps
 * one timer and one closure per request and builds an error only for a request that fails.
 *
 * Transport-free: NatsBus hands it a publish function and feeds it replies, no-responder notices
 * (the server's empty 503 reply) and publish-permission refusals, so only nats-bus.ts imports nats.
 */
import { BusClosedError, BusTimeoutError, NoRespondersError, QueueOverflowError } from './errors.js';

export const requestMuxLimits = {
  /**
   * Requests awaiting a reply on one connection. Each costs a timer and a closure; far above what
   * a member or client has in flight (a store client's callers are bounded by their own
   * concurrency), so reaching it means a caller that never waits. The newest is refused.
   */
  requestsInFlightMax: 65_536,
} as const;

interface PendingRequest {
  readonly subject: string;
  readonly timeoutMs: number;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class RequestMux {
  private readonly pending = new Map<string, PendingRequest>();
  private sequence = 0;

  /**
   * @param inbox the inbox this connection's replies arrive under (`<inbox>.<token>`), already
   *   subscribed as `<inbox>.*` by the caller.
   * @param publish sends one request with its reply subject; throws (translated) when refused at once.
   */
  constructor(
    readonly inbox: string,
    private readonly publish: (subject: string, data: Uint8Array, reply: string) => void,
  ) {}

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.pending.size >= requestMuxLimits.requestsInFlightMax) {
      return Promise.reject(new QueueOverflowError(`requests in flight under ${this.inbox}`, requestMuxLimits.requestsInFlightMax));
    }
    const token = (++this.sequence).toString(36);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(token, new BusTimeoutError(subject, timeoutMs)), timeoutMs);
      this.pending.set(token, { subject, timeoutMs, resolve, reject, timer });
      try {
        this.publish(subject, data, `${this.inbox}.${token}`);
      } catch (error) {
        this.settle(token, error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** A reply arrived on `<inbox>.<token>`; `null` data is the server's "no responders" notice. */
  onReply(token: string, data: Uint8Array | null): void {
    const request = this.pending.get(token);
    if (request === undefined) return; // late: it timed out already
    if (data === null) this.settle(token, new NoRespondersError(request.subject));
    else this.settle(token, data);
  }

  /** The server refused to let this connection publish to `subject`: its oldest request there fails. */
  onPublishRefused(subject: string, error: Error): void {
    for (const [token, request] of this.pending) {
      if (request.subject !== subject) continue;
      this.settle(token, error);
      return;
    }
  }

  /** Fails every waiting request (the connection closed, or the inbox subscription was refused). */
  failAll(error: Error = new BusClosedError(`requests under ${this.inbox}: the connection closed`)): void {
    for (const token of [...this.pending.keys()]) this.settle(token, error);
  }

  inFlight(): number {
    return this.pending.size;
  }

  private settle(token: string, outcome: Uint8Array | Error): void {
    const request = this.pending.get(token);
    if (request === undefined) return;
    this.pending.delete(token);
    clearTimeout(request.timer);
    if (outcome instanceof Error) request.reject(outcome);
    else request.resolve(outcome);
  }
}
