/**
 * The Node `Duplex` facade of one stream: drives a StreamCore with the endpoint's clock and
 * publishes its frames. Writes complete when their bytes are sent within the peer's credit, so
 * `write()` returning false and `'drain'` are the flow control a caller sees (pipe() honours
 * them); reads report what the application has taken, which opens the peer's credit again.
 *
 * Datagram mode is an object-mode Duplex: each chunk written is one datagram, each chunk read is
 * one datagram, never merged nor split.
 */
import { Duplex } from 'node:stream';
import type { Clock, TimerId } from '../clock.js';
import { encodeFrame, type Frame } from './frames.js';
import { StreamResetError, type StreamResetReason } from './errors.js';
import { StreamCore, type StreamAction, type StreamMode } from './stream-core.js';
import { streamLimits, type StreamTuning } from './limits.js';

export interface BusStreamOptions {
  readonly id: string;
  readonly mode: StreamMode;
  readonly tuning: StreamTuning;
  readonly clock: Clock;
  /** Publishes one frame to the peer; throws when the bus is closed (the stream is then reset). */
  readonly sendFrame: (frame: Uint8Array) => void;
  /** The stream is over (closed or reset): the endpoint forgets it. */
  readonly onFinished: () => void;
  readonly sendLimit?: number;
}

export class BusStream extends Duplex {
  readonly id: string;
  readonly mode: StreamMode;
  private readonly core: StreamCore;
  private readonly writeCallbacks = new Map<number, (error?: Error | null) => void>();
  private nextToken = 1;
  private finalCallback: ((error?: Error | null) => void) | null = null;
  private pushedBytes = 0;
  /** Datagram mode: sizes of datagrams still in the readable buffer (object mode counts objects, credit counts bytes). */
  private readonly bufferedSizes: number[] = [];
  private bufferedSizesSum = 0;
  private timer: TimerId | null = null;
  private finished = false;

  constructor(private readonly options: BusStreamOptions) {
    const datagram = options.mode === 'datagram';
    super({
      allowHalfOpen: true,
      objectMode: datagram,
      // Bytes mode: the readable buffer is the window (credit never lets more in). Datagram mode: objects.
      readableHighWaterMark: datagram ? Math.ceil(options.tuning.windowBytes / 1024) : options.tuning.windowBytes,
      writableHighWaterMark: datagram ? 16 : options.tuning.chunkBytesMax,
    });
    this.id = options.id;
    this.mode = options.mode;
    this.core = new StreamCore({ mode: options.mode, tuning: options.tuning, nowMs: options.clock.now(), ...(options.sendLimit !== undefined ? { sendLimit: options.sendLimit } : {}) });
    this.schedule();
  }

  /** The window this side grants its peer at the start (sent in the open handshake). */
  get initialWindow(): number {
    return this.core.initialWindow;
  }

  /** Bytes received and not yet read: at most one window. */
  bufferedBytes(): number {
    return this.core.bufferedBytes();
  }

  /** Bytes written and waiting for the peer's credit. */
  unsentBytes(): number {
    return this.core.unsentBytes();
  }

  /** @internal the endpoint hands every frame addressed to this stream here. */
  receiveFrame(frame: Frame | null): void {
    const now = this.options.clock.now();
    if (frame === null) this.core.reset('protocol', 'undecodable frame', now);
    else this.core.receive(frame, now);
    this.run();
  }

  /** @internal the endpoint is closing: RST to the peer, error to the reader. */
  resetBy(reason: StreamResetReason, detail: string): void {
    this.core.reset(reason, detail, this.options.clock.now());
    this.run();
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes = toBytes(chunk);
    if (this.mode === 'datagram' && bytes.byteLength > Math.min(this.options.tuning.windowBytes, streamLimits.datagramBytesMax)) {
      callback(new RangeError(`datagram of ${bytes.byteLength} bytes exceeds ${Math.min(this.options.tuning.windowBytes, streamLimits.datagramBytesMax)}`));
      return;
    }
    if (this.core.state !== 'open') {
      callback(new StreamResetError(this.id, 'closed', 'write after the stream ended'));
      return;
    }
    const token = this.nextToken++;
    this.writeCallbacks.set(token, callback);
    this.core.write(bytes, token, this.options.clock.now());
    this.run();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.core.state !== 'open') {
      callback();
      return;
    }
    this.finalCallback = callback;
    this.core.finish(this.options.clock.now());
    this.run();
  }

  override _read(): void {
    this.reportConsumed();
  }

  /**
   * Every way of reading (paused `read()`, flowing mode, pipe, async iteration) goes through
   * `read()`; the credit is reported after it took the bytes out. `_read` alone is not enough:
   * Node calls it before removing the chunk it returns, and not again until the next push.
   */
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    this.reportConsumed();
    return chunk;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.core.state === 'open') {
      this.core.reset('cancelled', error?.message ?? 'destroyed by the application', this.options.clock.now());
      this.run();
    }
    this.finish(error ?? new StreamResetError(this.id, 'cancelled', 'destroyed'));
    callback(error);
  }

  private reportConsumed(): void {
    if (this.core.state !== 'open') return;
    let buffered: number;
    if (this.mode === 'bytes') buffered = this.readableLength;
    else {
      while (this.bufferedSizes.length > this.readableLength) this.bufferedSizesSum -= this.bufferedSizes.shift()!;
      buffered = this.bufferedSizesSum;
    }
    this.core.consumed(this.pushedBytes - buffered, this.options.clock.now());
    this.run();
  }

  /** Performs the core's actions, in order. */
  private run(): void {
    for (;;) {
      const actions = this.core.takeActions();
      if (actions.length === 0) return;
      let delivered = false;
      for (const action of actions) delivered = this.perform(action) || delivered;
      if (delivered) this.reportConsumed();
    }
  }

  /** Returns whether bytes were handed to the reader. */
  private perform(action: StreamAction): boolean {
    switch (action.type) {
      case 'send':
        try {
          this.options.sendFrame(encodeFrame(action.frame));
        } catch (error) {
          // The bus is closed or refuses: nothing more can reach the peer.
          if (action.frame.type !== 'rst') this.core.reset('closed', `cannot publish: ${error instanceof Error ? error.message : String(error)}`, this.options.clock.now());
        }
        return false;
      case 'deliver':
        this.pushedBytes += action.payload.byteLength;
        if (this.mode === 'datagram') {
          this.bufferedSizes.push(action.payload.byteLength);
          this.bufferedSizesSum += action.payload.byteLength;
        }
        this.push(Buffer.from(action.payload.buffer, action.payload.byteOffset, action.payload.byteLength));
        return true;
      case 'writeDone': {
        const callback = this.writeCallbacks.get(action.token);
        this.writeCallbacks.delete(action.token);
        callback?.();
        return false;
      }
      case 'finReceived':
        this.push(null);
        return false;
      case 'finSent': {
        const callback = this.finalCallback;
        this.finalCallback = null;
        callback?.();
        return false;
      }
      case 'closed':
        this.finish(null);
        return false;
      case 'reset': {
        const error = new StreamResetError(this.id, action.reason, action.detail);
        this.finish(error);
        if (!this.destroyed) this.destroy(error);
        return false;
      }
    }
  }

  /** The stream is over: no timer, no endpoint entry; writes still waiting fail. */
  private finish(error: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    const failure = error ?? new StreamResetError(this.id, 'closed', 'the stream closed');
    for (const callback of this.writeCallbacks.values()) callback(failure);
    this.writeCallbacks.clear();
    const final = this.finalCallback;
    this.finalCallback = null;
    final?.(failure);
    this.options.onFinished();
  }

  /**
   * One timer per stream, set for the core's next deadline. Deadlines only move later with
   * traffic, so a timer that fires early just sets the next one (no re-arming per frame).
   */
  private schedule(): void {
    const deadline = this.core.nextDeadlineMs();
    if (deadline === null || this.finished) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.core.tick(this.options.clock.now());
      this.run();
      this.schedule();
    }, Math.max(0, deadline - this.options.clock.now()));
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('a stream chunk must be bytes or a string');
}
