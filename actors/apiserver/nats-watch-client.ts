/**
 * Kubernetes API watches over NATS, the client side: watchApiOverNats opens a watch through any
 * member's NATS front and hands its events to the caller. The wire is described in
 * nats-watch-protocol.ts.
 *
 * Decision: the client renews its stream's lease every `renewEveryMs` and gives the stream up
 * (`streamLost`) when the front no longer knows it or cannot be reached to renew it.
 *
 * Decision: a hole in `seq` (`gap`) or a full buffer (`overflow`) ends the watch and cancels it on
 * the front; the caller recovers as every Kubernetes watcher does, by watching again from the last
 * resourceVersion it saw.
 */
import { randomInt } from 'node:crypto';
import type { Bus, Subscription } from '../../bus/transport.js';
import type { Clock, TimerId } from '../../bus/clock.js';
import { SystemClock } from '../../bus/clock.js';
import { Prng } from '../../bus/prng.js';
import { decode } from '../../bus/codec.js';
import { NoRespondersError, QueueOverflowError, RemoteError, type KubusError } from '../../bus/errors.js';
import { call } from '../../bus/rpc.js';
import { subjects, type Subjects } from '../../bus/subjects.js';
import type { ApiNatsRequest } from './nats-front.js';
import {
  WatchGapError, WatchStreamLostError, checkFrameSeq, isApiWatchFrame, natsWatchLimits,
  type ApiNatsWatchResponse, type ApiWatchEndReason, type ApiWatchEvent, type ApiWatchFrame, type ApiWatchStreamRef,
} from './nats-watch-protocol.js';


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
    let value: unknown;
    try {
      value = decode(data);
    } catch {
      return; // not one of ours: the inbox is ours alone, so this is noise, not a lost frame
    }
    if (!isApiWatchFrame(value)) return;
    const frame: ApiWatchFrame = value;
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
