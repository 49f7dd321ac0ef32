/**
 * Typed request/reply over any `Bus`: `call` sends one request and returns the decoded value or
 * throws the typed error the server sent; `serve` answers requests on a subject with a handler.
 *
 * A reply is always an envelope, `{ ok: true, value }` or `{ ok: false, error: WireError }`, so
 * an error class and its fields survive the trip (see errors.ts) and the caller can act on
 * `NotLeaderError.leaderHint` exactly as if the call were local.
 *
 * Decision: a server is bounded twice. At most `concurrencyMax` handlers run at once; up to
 * `pendingMax` further requests wait in a queue; beyond that a request is dropped unanswered. A
 * dropped request costs the caller its timeout, which it already handles (retry elsewhere, or
 * "outcome unknown"), while answering "overloaded" would cost the server work it has no room for.
 */
import type { Bus, BusMessage, Subscription } from './transport.js';
import { BoundedQueue } from './bounded-queue.js';
import { decode, encode } from './codec.js';
import {
  BusClosedError, BusTimeoutError, KubusError, NoRespondersError, QueueOverflowError, RemoteError, fromWire, isWireError,
  toWire, type ErrorFactory, type WireError,
} from './errors.js';
import { assert } from './assert.js';

export type ReplyEnvelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

/** The bus's own errors, rebuilt whatever table the caller passes. */
export const busErrorFactories: Readonly<Record<string, ErrorFactory>> = {
  busTimeout: (_message, fields) => new BusTimeoutError(String(fields.subject ?? ''), Number(fields.timeoutMs ?? 0)),
  noResponders: (_message, fields) => new NoRespondersError(String(fields.subject ?? '')),
  busClosed: (message) => new BusClosedError(message),
  queueOverflow: (_message, fields) => new QueueOverflowError(String(fields.queue ?? ''), Number(fields.capacity ?? 0)),
};

export interface CallOptions {
  readonly timeoutMs: number;
  /** Codes this caller knows how to rebuild; unknown codes arrive as RemoteError. */
  readonly errorFactories?: Readonly<Record<string, ErrorFactory>>;
}

/**
 * Sends `request` and waits for the reply. Throws BusTimeoutError, NoRespondersError or
 * BusClosedError from the bus, the rebuilt error of a failed handler, or RemoteError with code
 * `invalidReply` when the reply is not an envelope.
 */
export async function call<T>(bus: Bus, subject: string, request: unknown, options: CallOptions): Promise<T> {
  const replyBytes = await bus.request(subject, encode(request), { timeoutMs: options.timeoutMs });
  let envelope: unknown;
  try {
    envelope = decode(replyBytes);
  } catch (error) {
    throw invalidReply(subject, `undecodable reply (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof envelope !== 'object' || envelope === null || typeof (envelope as { ok?: unknown }).ok !== 'boolean') {
    throw invalidReply(subject, 'the reply is not an { ok, value | error } envelope');
  }
  const reply = envelope as ReplyEnvelope;
  if (reply.ok) return reply.value as T;
  if (!isWireError(reply.error)) throw invalidReply(subject, 'the error reply carries no code and message');
  throw fromWire(reply.error, { ...busErrorFactories, ...options.errorFactories });
}

function invalidReply(subject: string, detail: string): RemoteError {
  return new RemoteError('invalidReply', `invalid reply on ${subject}: ${detail}`, { subject });
}

export interface ServeOptions {
  /** Requests waiting for a free handler slot beyond which new ones are dropped unanswered. */
  readonly pendingMax: number;
  /** Handlers running at once. */
  readonly concurrencyMax: number;
  /** Queue group, so several servers share one subject (each request goes to one). */
  readonly queue?: string;
  /** Told about a handler failure that is not a KubusError (a bug, answered as `internal`). */
  readonly onInternalError?: (error: unknown, subject: string) => void;
}

export interface Server {
  readonly subject: string;
  /** Stops receiving; requests already running still get their reply, waiting ones are dropped. */
  stop(): void;
  /** Requests dropped because the waiting queue was full (plus the subscription's own drops). */
  droppedCount(): number;
  inFlight(): number;
}

export type Handler = (request: unknown) => Promise<unknown> | unknown;

export function serve(bus: Bus, subject: string, handler: Handler, options: ServeOptions): Server {
  assert(Number.isInteger(options.concurrencyMax) && options.concurrencyMax > 0, `serve ${subject}: concurrencyMax must be a positive integer`);
  const waiting = new BoundedQueue<BusMessage>(`requests waiting on ${subject}`, options.pendingMax);
  let running = 0;
  let stopped = false;

  const start = (message: BusMessage): void => {
    running++;
    void answer(bus, subject, message, handler, options).finally(() => {
      running--;
      const next = stopped ? undefined : waiting.shift();
      if (next !== undefined) start(next);
    });
  };

  const subscription: Subscription = bus.subscribe(subject, (message) => {
    if (stopped || message.reply === null) return;
    if (running < options.concurrencyMax) start(message);
    else waiting.offer(message);
  }, {
    pendingMax: options.pendingMax,
    ...(options.queue !== undefined ? { queue: options.queue } : {}),
  });

  return {
    subject,
    stop() {
      if (stopped) return;
      stopped = true;
      subscription.unsubscribe();
      waiting.drain();
    },
    droppedCount: () => waiting.droppedCount() + subscription.droppedCount(),
    inFlight: () => running,
  };
}

async function answer(bus: Bus, subject: string, message: BusMessage, handler: Handler, options: ServeOptions): Promise<void> {
  let envelope: ReplyEnvelope;
  try {
    const request = decode(message.data);
    envelope = { ok: true, value: await handler(request) };
  } catch (error) {
    envelope = { ok: false, error: toWireReply(error, subject, options) };
  }
  let bytes: Uint8Array;
  try {
    bytes = encode(envelope);
  } catch (error) {
    bytes = encode({ ok: false, error: toWireReply(error, subject, options) });
  }
  try {
    bus.respond(message, bytes);
  } catch (error) {
    // The connection closed under us: the caller times out, which is what it would see anyway.
    if (!(error instanceof BusClosedError)) throw error;
  }
}

function toWireReply(error: unknown, subject: string, options: ServeOptions): WireError {
  if (error instanceof KubusError) return toWire(error);
  options.onInternalError?.(error, subject);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'internal', message: `internal error answering ${subject}: ${message}`, fields: {} };
}
