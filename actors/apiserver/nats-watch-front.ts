/**
 * Kubernetes API watches over NATS, the serving side: the streams one API member's NATS front
 * relays from its HTTPS watches to client inboxes, and the subject where clients renew and cancel
 * them. The wire is described in nats-watch-protocol.ts.
 *
 * Decision: the front publishes only to subjects of the cluster's inbox form (isClientInbox),
 * never to whatever subject a request names: otherwise any API client could make a member
 * publish on Raft or store subjects with the member's own NATS permissions.
 *
 * Decision: a stream whose frames pile up faster than they are published ends with `overflow`.
 * When a stream ends abnormally, frames still queued are dropped so the `end` frame, numbered
 * next after the last one sent, arrives at once.
 */
import type { Bus } from '../../bus/transport.js';
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Prng } from '../../bus/prng.js';
import { encode } from '../../bus/codec.js';
import { BoundedQueue } from '../../bus/bounded-queue.js';
import { assert } from '../../bus/assert.js';
import { serve, type Server } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import {
  BadStreamControlError, natsWatchLimits,
  type ApiWatchEndReason, type ApiWatchEvent, type ApiWatchStreamRef, type StreamControlRequest,
} from './nats-watch-protocol.js';

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
    if (request?.type === 'renew' && Array.isArray(request.streamIds) && request.streamIds.length <= natsWatchLimits.renewIdsMax
      && request.streamIds.every((id) => typeof id === 'string')) {
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
