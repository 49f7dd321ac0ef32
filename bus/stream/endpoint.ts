/**
 * One process's end of bus streams: opens streams to other endpoints and accepts theirs, with a
 * single NATS subscription for the data of all its streams.
 *
 * Subjects: an endpoint owns `dataSubject` and everything one token below it. Its streams receive
 * on `<dataSubject>.<streamId>`; when it listens, opens arrive on `<dataSubject>` itself (a NATS
 * request), so the opener knows where the acceptor's end of the stream will be before the answer
 * arrives (the acceptor may send data before its answer is processed). The opener says where its
 * own end is (`replyTo`), which lets any endpoint whose subjects the acceptor may publish to open.
 *
 * Decision: stream ids are 128 random bits. Anyone allowed to publish to an endpoint's subjects
 * could inject frames into a stream whose id it knew; an id it cannot guess keeps a stream
 * between its two ends (NATS permissions decide who may publish there at all).
 */
import { randomBytes } from 'node:crypto';
import type { Bus, BusMessage, Subscription } from '../transport.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { decode, encode } from '../codec.js';
import { NoRespondersError, BusTimeoutError } from '../errors.js';
import { isValidSubject } from '../subjects.js';
import { BusStream } from './bus-stream.js';
import { decodeFrame } from './frames.js';
import { StreamOpenError, StreamRefusedError } from './errors.js';
import { checkStreamTuning, defaultStreamTuning, endpointPendingMax, streamLimits, type StreamTuning } from './limits.js';
import type { StreamMode } from './stream-core.js';

/** Opens waiting to be accepted, per endpoint: beyond it an open is dropped and its opener times out. */
const openPendingMax = 64;

interface OpenRequest {
  readonly v: 1;
  readonly id: string;
  readonly replyTo: string;
  readonly window: number;
  readonly mode: StreamMode;
  readonly header: unknown;
}

type OpenReply = { readonly ok: true; readonly window: number } | { readonly ok: false; readonly reason: string; readonly message: string };

/** What an acceptor decides for one open: take it (and get the stream), or refuse with a typed reason. */
export type AcceptDecision =
  /** `abandon`: the stream could not be made after all (the endpoint is closing): free what accepting took. */
  | { readonly accept: true; readonly onStream: (stream: BusStream) => void; readonly abandon?: () => void }
  | { readonly accept: false; readonly reason: string; readonly message: string };

export interface IncomingOpen {
  readonly id: string;
  readonly mode: StreamMode;
  /** What the opener sent along (e.g. the tunnel's target); untrusted input. */
  readonly header: unknown;
  /**
   * Where the opener's end of the stream is (its data subject plus the stream id). NATS
   * permissions decide who may publish an open here, and this names the opener's own subjects,
   * so an acceptor may refuse openers that are not of the kind it serves (the agent: members).
   */
  readonly replyTo: string;
}

export interface OpenOptions {
  readonly mode: StreamMode;
  readonly header: unknown;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface StreamEndpointOptions {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This endpoint's subject (see the header); it must be one token-safe subject without wildcards. */
  readonly dataSubject: string;
  readonly tuning?: StreamTuning;
  readonly streamsMax?: number;
}

export class StreamEndpoint {
  private readonly streams = new Map<string, BusStream>();
  /** Opens being accepted (the acceptor is connecting): they count against streamsMax. */
  private accepting = 0;
  private dataSubscription: Subscription | null = null;
  private openSubscription: Subscription | null = null;
  private closed = false;
  private readonly tuning: StreamTuning;
  private readonly streamsMax: number;

  constructor(private readonly options: StreamEndpointOptions) {
    if (!isValidSubject(options.dataSubject, { wildcards: false })) throw new RangeError(`stream endpoint subject ${JSON.stringify(options.dataSubject)} is not a literal subject`);
    this.tuning = options.tuning ?? defaultStreamTuning;
    this.streamsMax = options.streamsMax ?? streamLimits.streamsMax;
    checkStreamTuning(this.tuning, { datagrams: true });
  }

  get subject(): string {
    return this.options.dataSubject;
  }

  /** Streams open now. */
  streamCount(): number {
    return this.streams.size;
  }

  /**
   * Opens a stream to the endpoint listening on `subject`. Resolves once the acceptor took it;
   * rejects with StreamRefusedError (its reason), StreamOpenError (nobody listening, no answer in
   * time, aborted, too many streams here).
   */
  async open(subject: string, options: OpenOptions): Promise<BusStream> {
    this.checkOpen();
    if (this.streams.size + this.accepting >= this.streamsMax) throw new StreamOpenError(subject, 'tooManyStreams', `${this.streamsMax} streams are open on this endpoint`);
    this.subscribeData();
    const id = randomBytes(16).toString('hex');
    const stream = this.register(id, options.mode, `${subject}.${id}`, 0);
    const request: OpenRequest = { v: 1, id, replyTo: `${this.options.dataSubject}.${id}`, window: stream.initialWindow, mode: options.mode, header: options.header };
    const timeoutMs = options.timeoutMs ?? streamLimits.openTimeoutMs;
    let reply: OpenReply;
    try {
      reply = await abortable(this.options.bus.request(subject, encode(request), { timeoutMs }).then((bytes) => decode<OpenReply>(bytes)), options.signal);
    } catch (error) {
      discard(stream, 'open failed');
      if (error instanceof NoRespondersError) throw new StreamOpenError(subject, 'noResponders', 'nobody listens there', { cause: error });
      if (error instanceof BusTimeoutError) throw new StreamOpenError(subject, 'timeout', `no answer within ${timeoutMs} ms`, { cause: error });
      if (isPermissionError(error)) throw new StreamOpenError(subject, 'forbidden', 'this bus user may not open streams there', { cause: error });
      if (error instanceof AbortedError) throw new StreamOpenError(subject, 'aborted', 'the caller gave up', { cause: error });
      throw error;
    }
    if (!reply.ok) {
      discard(stream, 'refused');
      throw new StreamRefusedError(subject, String(reply.reason), String(reply.message));
    }
    stream.receiveFrame({ type: 'window', limit: reply.window });
    return stream;
  }

  /** Accepts opens on this endpoint's subject; `accept` decides each (it may connect first). */
  listen(accept: (open: IncomingOpen) => Promise<AcceptDecision>): void {
    this.checkOpen();
    if (this.openSubscription !== null) throw new Error(`stream endpoint ${this.options.dataSubject} already listens`);
    this.subscribeData();
    this.openSubscription = this.options.bus.subscribe(this.options.dataSubject, (message) => this.onOpen(message, accept), {
      pendingMax: openPendingMax,
      onOverflow: (dropped) => this.options.logger.warn('stream opens dropped: too many waiting', { subject: this.options.dataSubject, dropped }),
    });
  }

  /** Resets every stream (the peers see `closed` at once, not after their timeout) and unsubscribes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.resetBy('closed', 'the endpoint is closing');
    this.streams.clear();
    this.openSubscription?.unsubscribe();
    this.dataSubscription?.unsubscribe();
  }

  private async onOpen(message: BusMessage, accept: (open: IncomingOpen) => Promise<AcceptDecision>): Promise<void> {
    const request = parseOpen(message.data);
    if (request === null) return this.reply(message, { ok: false, reason: 'badRequest', message: 'not a stream open' });
    if (this.closed) return this.reply(message, { ok: false, reason: 'closing', message: 'the endpoint is closing' });
    if (this.streams.has(request.id)) return this.reply(message, { ok: false, reason: 'badRequest', message: 'stream id in use' });
    if (this.streams.size + this.accepting >= this.streamsMax) return this.reply(message, { ok: false, reason: 'tooManyStreams', message: `${this.streamsMax} streams are open` });
    this.accepting++;
    let decision: AcceptDecision;
    try {
      decision = await accept({ id: request.id, mode: request.mode, header: request.header, replyTo: request.replyTo });
    } catch (error) {
      decision = { accept: false, reason: 'acceptFailed', message: error instanceof Error ? error.message : String(error) };
    } finally {
      this.accepting--;
    }
    if (!decision.accept) return this.reply(message, { ok: false, reason: decision.reason, message: decision.message });
    if (this.closed) {
      decision.abandon?.();
      return this.reply(message, { ok: false, reason: 'closing', message: 'the endpoint is closing' });
    }
    const stream = this.register(request.id, request.mode, request.replyTo, request.window);
    this.reply(message, { ok: true, window: stream.initialWindow });
    decision.onStream(stream);
  }

  private reply(message: BusMessage, reply: OpenReply): void {
    try {
      this.options.bus.respond(message, encode(reply));
    } catch (error) {
      this.options.logger.warn('stream open answer not sent', { subject: this.options.dataSubject, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private register(id: string, mode: StreamMode, remoteSubject: string, sendLimit: number): BusStream {
    const stream = new BusStream({
      id, mode, tuning: this.tuning, clock: this.options.clock, sendLimit,
      sendFrame: (frame) => this.options.bus.publish(remoteSubject, frame),
      onFinished: () => {
        if (this.streams.get(id) === stream) this.streams.delete(id);
      },
    });
    this.streams.set(id, stream);
    return stream;
  }

  private subscribeData(): void {
    if (this.dataSubscription !== null) return;
    const prefixLength = this.options.dataSubject.length + 1;
    this.dataSubscription = this.options.bus.subscribe(`${this.options.dataSubject}.*`, (message) => {
      // Frames of a stream already over (or never known) are dropped: its end was already decided.
      this.streams.get(message.subject.slice(prefixLength))?.receiveFrame(decodeFrame(message.data));
    }, {
      pendingMax: endpointPendingMax(this.tuning, this.streamsMax),
      onOverflow: (dropped) => this.options.logger.warn('stream frames dropped: the endpoint cannot keep up (the streams concerned reset on the gap)', { subject: this.options.dataSubject, dropped }),
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new StreamOpenError(this.options.dataSubject, 'aborted', 'the endpoint is closed');
  }
}

function parseOpen(bytes: Uint8Array): OpenRequest | null {
  let value: Partial<OpenRequest>;
  try {
    value = decode<Partial<OpenRequest>>(bytes);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || value.v !== 1) return null;
  if (typeof value.id !== 'string' || !/^[0-9a-f]{32}$/.test(value.id)) return null;
  if (typeof value.replyTo !== 'string' || !isValidSubject(value.replyTo, { wildcards: false })) return null;
  if (typeof value.window !== 'number' || !Number.isSafeInteger(value.window) || value.window < 0) return null;
  if (value.mode !== 'bytes' && value.mode !== 'datagram') return null;
  return { v: 1, id: value.id, replyTo: value.replyTo, window: value.window, mode: value.mode, header: value.header };
}

/** A stream nobody holds yet: ended without an 'error' event nobody listens to. */
function discard(stream: BusStream, why: string): void {
  stream.on('error', () => undefined);
  stream.resetBy('cancelled', why);
}

class AbortedError extends Error {}

/** NatsBus's BusPermissionError, recognized by its code (this folder does not load the NATS adapter). */
function isPermissionError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'busPermission';
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new AbortedError('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, (error: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}
