/**
 * Kubernetes API watches over NATS: leased streams of watch events from an API member's NATS
 * front to an internal component's inbox, and the client that consumes them.
 *
 * Protocol. The client subscribes to its inbox `kubus.<cluster>.inbox.<owner>.<id>`, then sends
 * the watch request on `kubus.<cluster>.api` (the queue group) with that `inbox`. The front that
 * takes it opens the watch on its own HTTPS API and answers with the HTTP status and headers; a
 * non-200 answer carries the Status body and opens nothing. A 200 answer names `{ member,
 * streamId }`, and the front publishes to the inbox, in order, with `seq` counting from 1:
 * `{ streamId, seq, kind: 'event', event }` for each line of the HTTPS watch, and one last
 * `{ streamId, seq, kind: 'end', reason }`. The client renews on `kubus.<cluster>.api.stream.
 * <member>` every `renewEveryMs`; the front ends a stream not renewed within `leaseMs`, and a
 * `cancel` there ends it at once.
 *
 * Decision: leased, like the store watch (store/store-watch.ts): a client that dies or loses the
 * bus says nothing, and the front must not relay a watch for it until the HTTPS side times out.
 *
 * Decision: the front publishes only to subjects of the cluster's inbox form, never to whatever
 * subject a request names: otherwise any API client could make a member publish on Raft or store
 * subjects with the member's own NATS permissions.
 *
 * Decision: no resend, no backpressure. NATS core neither blocks a publisher nor redelivers, so
 * a stream whose frames pile up (`overflow`) is ended, and a client that sees a hole in `seq`
 * (`gap`) ends its side. Both hand recovery to the path every Kubernetes watcher already has:
 * watch again from the last resourceVersion it saw. When a stream ends abnormally, frames still
 * queued are dropped so the `end` frame, numbered next after the last one sent, arrives at once.
 */
import { randomInt } from 'node:crypto';
import type { Bus, Subscription } from '../../bus/transport.js';
import type { Clock, TimerId } from '../../bus/clock.js';
import { SystemClock } from '../../bus/clock.js';
import { Prng } from '../../bus/prng.js';
import { decode, encode } from '../../bus/codec.js';
import { BoundedQueue } from '../../bus/bounded-queue.js';
import { assert } from '../../bus/assert.js';
import { KubusError, NoRespondersError, QueueOverflowError, RemoteError, type ErrorFields } from '../../bus/errors.js';
import { call, serve, type Server } from '../../bus/rpc.js';
import { isValidToken, subjects, type Subjects } from '../../bus/subjects.js';
import { defaultHttpLimits } from './http/limits.js';
import type { ApiNatsRequest, ApiNatsResponse } from './nats-front.js';

export const natsWatchLimits = {
  /** Streams one front serves (open or opening): the HTTPS API behind it holds as many watches (`watchesMax`), no more. */
  streamsMax: defaultHttpLimits.watchesMax,
  /**
   * Frames queued for one stream before it ends with `overflow`, and on the client before it gives
   * up: the store watch's client bound (4,096 messages); a stream that far behind is cheaper re-watched.
   */
  framesBufferedMax: 4_096,
  /** Bytes of event text queued for one stream before `overflow`: what a slow HTTPS watch client may leave unread. */
  bufferedBytesMax: defaultHttpLimits.watchBufferBytesMax,
  /** One event line: a maximal object (3 MiB request body) plus its event wrapping fits; NATS refuses more than 4 MB anyway. */
  lineBytesMax: 4 * 1024 * 1024,
  /** Frames one stream publishes before yielding the event loop, as the NATS adapter drains subscriptions (`drainBatchMax`). */
  publishBatchMax: 256,
  /** A front ends a stream not renewed for this long: three renewal periods, so two lost renewals are survived. */
  leaseMs: 30_000,
  /** The client's renewal period: a third of the lease, as the store watch renews. */
  renewEveryMs: 10_000,
  /** A renewal is answered from memory: a member silent this long is stalled, not busy. */
  renewTimeoutMs: 5_000,
  /** Renewals failing in a row before the client gives the stream up: after two, the lease is about to expire anyway. */
  renewFailuresMax: 2,
  /** Stream ids in one renewal: a client may renew every stream of a front at once, no more. */
  renewIdsMax: defaultHttpLimits.watchesMax,
  /** Renewal and cancel requests waiting on one front: one round of renewals of every stream it serves. */
  controlPendingMax: defaultHttpLimits.watchesMax,
} as const;

/** Why a stream ended. The client adds `gap`, `overflow` (its own buffer) and `streamLost` to what the front sends. */
export type ApiWatchEndReason =
  /** The HTTPS watch ended: `timeoutSeconds` passed or the server closed it. */
  | 'ended'
  /** The HTTPS watch failed, sent a line that is not a JSON event, or a frame could not be published. */
  | 'error'
  /** Frames were produced faster than they were published (front) or handled (client). */
  | 'overflow'
  /** The client did not renew within the lease. */
  | 'leaseExpired'
  /** The serving front stopped. */
  | 'frontStopped'
  /** Client side: a frame is missing. */
  | 'gap'
  /** Client side: the front no longer knows the stream, or cannot be reached to renew it. */
  | 'streamLost';

/** One line of a Kubernetes watch: `{ type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR', object }`. */
export interface ApiWatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export type ApiWatchFrame =
  | { readonly streamId: string; readonly seq: number; readonly kind: 'event'; readonly event: ApiWatchEvent }
  | { readonly streamId: string; readonly seq: number; readonly kind: 'end'; readonly reason: ApiWatchEndReason };

export type StreamControlRequest =
  | { readonly type: 'renew'; readonly streamIds: readonly string[] }
  | { readonly type: 'cancel'; readonly streamId: string };

/** Where a 200 watch answer says renewals go. */
export interface ApiWatchStreamRef {
  readonly member: string;
  readonly streamId: string;
}

/** A hole in a stream's `seq`: NATS core dropped a frame; watch again from the last resourceVersion. */
export class WatchGapError extends KubusError {
  override readonly name = 'WatchGapError';
  readonly code = 'watchGap';
  constructor(readonly streamId: string, readonly expectedSeq: number, readonly receivedSeq: number) {
    super(`watch stream ${streamId} expected frame ${expectedSeq} and received ${receivedSeq}`);
  }
  override fields(): ErrorFields {
    return { streamId: this.streamId, expectedSeq: this.expectedSeq, receivedSeq: this.receivedSeq };
  }
}

/** The serving front no longer serves the stream (it forgot it or cannot be reached). */
export class WatchStreamLostError extends KubusError {
  override readonly name = 'WatchStreamLostError';
  readonly code = 'watchStreamLost';
  constructor(readonly member: string, readonly streamId: string, detail: string, options?: { cause: unknown }) {
    super(`watch stream ${streamId} on ${member} is lost: ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { member: this.member, streamId: this.streamId };
  }
}

/** A renewal or cancel request that is not one. */
export class BadStreamControlError extends KubusError {
  override readonly name = 'BadStreamControlError';
  readonly code = 'badStreamControl';
}

/** Whether `subject` is one client inbox of `cluster`: `kubus.<cluster>.inbox.<owner>.<id>`, literal tokens only. */
export function isClientInbox(cluster: string, subject: unknown): subject is string {
  const prefix = `${subjects(cluster).all.slice(0, -1)}inbox.`;
  if (typeof subject !== 'string' || !subject.startsWith(prefix)) return false;
  const rest = subject.slice(prefix.length).split('.');
  return rest.length === 2 && rest.every(isValidToken);
}

/** Where a stream's lines come from (the HTTPS watch response) and how to stop it. */
export interface WatchSource {
  /** Starts the flow: `data` with text chunks of newline-delimited JSON, then `end` once. */
  start(sink: { data(text: string): void; end(error?: Error): void }): void;
  abort(): void;
}

type QueuedFrame = { readonly kind: 'event'; readonly event: ApiWatchEvent; readonly bytes: number } | { readonly kind: 'end'; readonly reason: ApiWatchEndReason };

/** One stream on the front: lines in, numbered frames out, a lease. */
class WatchStream {
  private readonly queue = new BoundedQueue<QueuedFrame>('watch frames', natsWatchLimits.framesBufferedMax + 1);
  private bufferedBytes = 0;
  private partial = '';
  private seq = 0;
  private finished = false;
  private pumpScheduled = false;
  private leaseTimer: TimerId = -1;

  constructor(readonly id: string, private readonly inbox: string, private readonly source: WatchSource, private readonly host: StreamHost) {}

  start(): void {
    this.renew();
    this.source.start({ data: (text) => this.onData(text), end: (error) => this.finish(error === undefined ? 'ended' : 'error') });
  }

  renew(): void {
    if (this.finished) return;
    this.host.clock.clearTimeout(this.leaseTimer);
    this.leaseTimer = this.host.clock.setTimeout(() => this.finish('leaseExpired'), this.host.leaseMs);
  }

  /** Ends the stream; `notify: false` (a cancel) sends no end frame: the client is gone. */
  finish(reason: ApiWatchEndReason, options: { notify: boolean } = { notify: true }): void {
    if (this.finished) return;
    this.finished = true;
    this.host.clock.clearTimeout(this.leaseTimer);
    this.source.abort();
    if (reason !== 'ended' || !options.notify) this.discardQueued();
    if (options.notify) this.queueEnd(reason);
    else this.host.gone(this.id);
  }

  private queueEnd(reason: ApiWatchEndReason): void {
    this.queue.push({ kind: 'end', reason });
    if (this.queue.size === 1) this.pump();
    else this.schedulePump();
  }

  private onData(text: string): void {
    if (this.finished) return;
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    // Characters, not bytes: a JavaScript string holds two bytes per unit, so this bounds memory all the same.
    if (this.partial.length > natsWatchLimits.lineBytesMax) return this.finish('error');
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = parseEvent(line);
      if (event === null) return this.finish('error');
      const bytes = Buffer.byteLength(line);
      if (this.queue.size >= natsWatchLimits.framesBufferedMax || this.bufferedBytes + bytes > natsWatchLimits.bufferedBytesMax) {
        return this.finish('overflow');
      }
      this.queue.push({ kind: 'event', event, bytes });
      this.bufferedBytes += bytes;
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.host.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Publishes up to `publishBatchMax` frames; the seq is taken only once a frame is out, so dropped frames leave no hole. */
  private pump(): void {
    for (let i = 0; i < natsWatchLimits.publishBatchMax; i++) {
      const frame = this.queue.shift();
      if (frame === undefined) return;
      if (frame.kind === 'event') this.bufferedBytes -= frame.bytes;
      try {
        const body = frame.kind === 'event' ? { kind: 'event', event: frame.event } : { kind: 'end', reason: frame.reason };
        this.host.bus.publish(this.inbox, encode({ streamId: this.id, seq: this.seq + 1, ...body }));
        this.seq++;
      } catch {
        // Too large for NATS, or the bus closed: nothing after this frame may be delivered.
        if (frame.kind === 'end') return this.host.gone(this.id);
        if (!this.finished) return this.finish('error');
        this.discardQueued(); // draining after a clean end: what follows the lost frame is replaced by 'error'
        return this.queueEnd('error');
      }
      if (frame.kind === 'end') return this.host.gone(this.id);
    }
    if (this.queue.size > 0) this.schedulePump();
  }

  private discardQueued(): void {
    this.queue.drain();
    this.bufferedBytes = 0;
  }
}

function parseEvent(line: string): ApiWatchEvent | null {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || typeof (value as ApiWatchEvent).type !== 'string') return null;
    return value as ApiWatchEvent;
  } catch {
    return null;
  }
}

interface StreamHost {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly leaseMs: number;
  defer(fn: () => void): void;
  gone(id: string): void;
}

export interface WatchStreamsOptions {
  readonly bus: Bus;
  readonly cluster: string;
  /** This member's id: renewals reach it on `apiStream(self)`. */
  readonly self: string;
  readonly clock: Clock;
  readonly random: Prng;
  readonly leaseMs?: number;
  /** Runs a stream's next publish batch later; `setImmediate` by default (tests pass their own). */
  readonly defer?: (fn: () => void) => void;
}

/** The streams one front serves, and the subject where their clients renew and cancel them. */
export class WatchStreams {
  private readonly streams = new Map<string, WatchStream>();
  private opening = 0;
  private readonly control: Server;
  private readonly host: StreamHost;

  constructor(private readonly options: WatchStreamsOptions) {
    this.host = {
      bus: options.bus, clock: options.clock, leaseMs: options.leaseMs ?? natsWatchLimits.leaseMs,
      defer: options.defer ?? ((fn) => void setImmediate(fn)),
      gone: (id) => this.streams.delete(id),
    };
    // One at a time: a renewal or cancel is answered synchronously from the map, so more would only interleave.
    this.control = serve(options.bus, subjects(options.cluster).apiStream(options.self), (request) => this.onControl(request), {
      concurrencyMax: 1, pendingMax: natsWatchLimits.controlPendingMax,
    });
  }

  /** Streams open on this front (not counting those whose HTTPS watch is still being opened). */
  activeCount(): number {
    return this.streams.size;
  }

  /** Takes a slot for a watch about to be opened; false when `streamsMax` are open or opening (answer 429). */
  reserve(): boolean {
    if (this.streams.size + this.opening >= natsWatchLimits.streamsMax) return false;
    this.opening++;
    return true;
  }

  /** Gives back a reserved slot whose watch did not open. */
  release(): void {
    this.opening--;
  }

  /** Turns a reserved slot into a stream relaying `source` to `inbox`; returns where to renew it. */
  open(inbox: string, source: WatchSource): ApiWatchStreamRef {
    assert(this.opening > 0, 'WatchStreams.open without a reserved slot');
    this.opening--;
    const id = `${this.options.random.nextUint32().toString(16)}${this.options.random.nextUint32().toString(16)}`;
    const stream = new WatchStream(id, inbox, source, this.host);
    this.streams.set(id, stream);
    stream.start();
    return { member: this.options.self, streamId: id };
  }

  /** Ends every stream (clients are told `frontStopped`) and stops answering renewals. */
  stop(): void {
    this.control.stop();
    for (const stream of [...this.streams.values()]) stream.finish('frontStopped');
  }

  private onControl(raw: unknown): unknown {
    const request = raw as StreamControlRequest;
    if (request?.type === 'renew' && Array.isArray(request.streamIds) && request.streamIds.length <= natsWatchLimits.renewIdsMax) {
      const unknown = request.streamIds.filter((id) => {
        const stream = this.streams.get(id);
        stream?.renew();
        return stream === undefined;
      });
      return { unknown };
    }
    if (request?.type === 'cancel' && typeof request.streamId === 'string') {
      const stream = this.streams.get(request.streamId);
      stream?.finish('ended', { notify: false });
      return { canceled: stream !== undefined };
    }
    throw new BadStreamControlError(`not a renew (at most ${natsWatchLimits.renewIdsMax} ids) or cancel request`);
  }
}

/** A watch request over NATS: an API request plus the inbox the frames go to. */
export interface ApiNatsWatchRequest extends ApiNatsRequest {
  readonly inbox: string;
}

/** The first answer to a watch: a 200 names the stream; anything else carries the Status body. */
export interface ApiNatsWatchResponse extends ApiNatsResponse {
  readonly stream?: ApiWatchStreamRef;
}

export interface ApiWatchHandlers {
  /** Each watch event, in the HTTPS stream's order. */
  onEvent(event: ApiWatchEvent): void;
  /**
   * Once, when the stream ends other than by `close()`; the caller watches again from the last
   * resourceVersion it saw. `error` says what went wrong on this side (gap, overflow, lost stream).
   */
  onEnd(end: { readonly reason: ApiWatchEndReason; readonly error?: KubusError }): void;
}

export interface ApiWatchOptions {
  /** Deadline of the first answer (status and headers). */
  readonly timeoutMs?: number;
  readonly renewEveryMs?: number;
  /** The inbox owner token (`inbox.<owner>.<id>`): a node agent passes its node name, which its NATS permissions allow. */
  readonly inboxOwner?: string;
  readonly clock?: Clock;
  readonly random?: Prng;
}

export interface ApiWatch {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The Status of a refused watch (status != 200); absent on an open stream. */
  readonly body?: Uint8Array;
  /** Stops the stream and tells the front (best effort); `onEnd` is not called. */
  close(): void;
}

const watchTimeoutMsDefault = 10_000;
const inboxOwnerDefault = 'api-watch';

/**
 * Opens a Kubernetes watch over NATS (`request.path` with `watch=1`). Resolves with the first
 * answer; on 200 events flow to `handlers` until the stream ends. Throws what `call` throws
 * (BusTimeoutError, NoRespondersError, ...) and RemoteError `invalidReply` for a 200 naming no stream.
 */
export async function watchApiOverNats(bus: Bus, cluster: string, request: ApiNatsRequest, handlers: ApiWatchHandlers, options: ApiWatchOptions = {}): Promise<ApiWatch> {
  const names = subjects(cluster);
  const random = options.random ?? new Prng(randomInt(2 ** 31));
  const inbox = names.inbox(options.inboxOwner ?? inboxOwnerDefault, `${random.nextUint32().toString(16)}${random.nextUint32().toString(16)}`);
  const client = new WatchClient(bus, names, options.clock ?? new SystemClock(), handlers, options.renewEveryMs ?? natsWatchLimits.renewEveryMs);
  client.subscribe(inbox);
  let reply: ApiNatsWatchResponse;
  try {
    reply = await call<ApiNatsWatchResponse>(bus, names.api(), { ...request, inbox }, { timeoutMs: options.timeoutMs ?? watchTimeoutMsDefault });
  } catch (error) {
    client.close();
    throw error;
  }
  if (reply.status !== 200) {
    client.close();
    return { status: reply.status, headers: reply.headers, body: reply.body, close: () => undefined };
  }
  if (typeof reply.stream?.member !== 'string' || typeof reply.stream.streamId !== 'string') {
    client.close();
    throw new RemoteError('invalidReply', `invalid reply on ${names.api()}: a 200 watch answer names no stream`, { subject: names.api() });
  }
  client.attach(reply.stream);
  return { status: reply.status, headers: reply.headers, close: () => client.close() };
}

/** Whether `frame` is the next one (`ok`), one already seen (`stale`, ignored) or after a hole (`gap`). */
export function checkFrameSeq(expectedSeq: number, frame: Pick<ApiWatchFrame, 'seq'>): 'ok' | 'stale' | 'gap' {
  if (frame.seq === expectedSeq) return 'ok';
  return frame.seq < expectedSeq ? 'stale' : 'gap';
}

/** The client side of one stream: buffers frames until the first answer names the stream, checks seq, renews. */
class WatchClient {
  private subscription: Subscription | null = null;
  private early: ApiWatchFrame[] = [];
  private earlyOverflow = false;
  private stream: ApiWatchStreamRef | null = null;
  private expectedSeq = 1;
  private renewFailures = 0;
  private timer: TimerId = -1;
  private done = false;

  constructor(
    private readonly bus: Bus,
    private readonly names: Subjects,
    private readonly clock: Clock,
    private readonly handlers: ApiWatchHandlers,
    private readonly renewEveryMs: number,
  ) {}

  subscribe(inbox: string): void {
    this.subscription = this.bus.subscribe(inbox, (message) => this.onFrame(message.data), {
      pendingMax: natsWatchLimits.framesBufferedMax,
      onOverflow: () => this.end('overflow', new QueueOverflowError('API watch frames', natsWatchLimits.framesBufferedMax)),
    });
  }

  attach(stream: ApiWatchStreamRef): void {
    this.stream = stream;
    if (this.earlyOverflow) return this.end('overflow', new QueueOverflowError('API watch frames before the answer', natsWatchLimits.framesBufferedMax));
    const early = this.early;
    this.early = [];
    for (const frame of early) this.handle(frame);
    this.scheduleRenew();
  }

  close(): void {
    if (this.done) return;
    this.stop();
    this.cancel();
  }

  private onFrame(data: Uint8Array): void {
    if (this.done) return;
    let frame: ApiWatchFrame;
    try {
      frame = decode<ApiWatchFrame>(data);
    } catch {
      return; // not one of ours: the inbox is ours alone, so this is noise, not a lost frame
    }
    if (this.stream !== null) return this.handle(frame);
    if (this.early.length < natsWatchLimits.framesBufferedMax) this.early.push(frame);
    else this.earlyOverflow = true;
  }

  private handle(frame: ApiWatchFrame): void {
    if (this.done || this.stream === null || frame?.streamId !== this.stream.streamId) return;
    const order = checkFrameSeq(this.expectedSeq, frame);
    if (order === 'stale') return;
    if (order === 'gap') return this.end('gap', new WatchGapError(this.stream.streamId, this.expectedSeq, frame.seq));
    this.expectedSeq++;
    if (frame.kind === 'event') this.handlers.onEvent(frame.event);
    else this.end(frame.reason, undefined, { fromFront: true });
  }

  private scheduleRenew(): void {
    this.timer = this.clock.setTimeout(() => void this.renew(), this.renewEveryMs);
  }

  private async renew(): Promise<void> {
    const stream = this.stream;
    if (this.done || stream === null) return;
    try {
      const reply = await call<{ unknown: string[] }>(this.bus, this.names.apiStream(stream.member), { type: 'renew', streamIds: [stream.streamId] }, {
        timeoutMs: natsWatchLimits.renewTimeoutMs,
      });
      if (this.done) return;
      if (reply.unknown.includes(stream.streamId)) return this.end('streamLost', new WatchStreamLostError(stream.member, stream.streamId, 'the front no longer serves it'));
      this.renewFailures = 0;
    } catch (error) {
      if (this.done) return;
      this.renewFailures++;
      if (error instanceof NoRespondersError || this.renewFailures >= natsWatchLimits.renewFailuresMax) {
        return this.end('streamLost', new WatchStreamLostError(stream.member, stream.streamId, `renewal failed ${this.renewFailures} time(s)`, { cause: error }));
      }
    }
    this.scheduleRenew();
  }

  private end(reason: ApiWatchEndReason, error?: KubusError, options: { fromFront: boolean } = { fromFront: false }): void {
    if (this.done) return;
    this.stop();
    // Ended on this side: the front may still be relaying, so tell it to stop now rather than at lease expiry.
    if (!options.fromFront) this.cancel();
    this.handlers.onEnd(error === undefined ? { reason } : { reason, error });
  }

  private stop(): void {
    this.done = true;
    this.clock.clearTimeout(this.timer);
    this.subscription?.unsubscribe();
  }

  private cancel(): void {
    const stream = this.stream;
    if (stream === null) return;
    call(this.bus, this.names.apiStream(stream.member), { type: 'cancel', streamId: stream.streamId }, { timeoutMs: natsWatchLimits.renewTimeoutMs })
      .catch(() => undefined);
  }
}
