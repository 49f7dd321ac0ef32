/**
 * One stream's protocol, without I/O (the etcd-raft shape): inputs are method calls carrying the
 * current time, outputs are actions the driver takes and performs in order (send a frame, hand
 * bytes to the reader, complete a write, report the end). No timers, no clock, no promises here,
 * so every rule below is unit-tested on a simulated clock.
 *
 * Decision, flow control: credit in bytes, per direction. The receiver advertises a limit
 * (`bytes it has let the application read + its window`); the sender never sends past it, so the
 * receiver buffers at most one window per stream whatever the writer does, and a slow reader
 * stops the writer (its writes stay incomplete) instead of growing memory or making NATS drop a
 * slow consumer. The limit is re-advertised once half a window was read, and with every keepalive.
 *
 * Decision, loss: NATS core is at-most-once but keeps one publisher's order, so the only failure
 * is a missing frame (slow-consumer drop, reconnect). DATA and FIN are numbered; a gap resets the
 * stream rather than being repaired: the layers above (TCP clients, the proxy) already handle a
 * reset connection, and retransmission would need buffers this design avoids.
 *
 * Decision, liveness: each side sends a WINDOW when it sent nothing for `keepaliveIntervalMs`;
 * hearing nothing for `peerTimeoutMs` means the peer is gone and resets the stream.
 *
 * Decision, not an XState machine: a stream handles one input per frame (tens of thousands a
 * second under load, hundreds of streams per agent) and has three states; a plain class with one
 * entry per input and an action list (raft's Step/Ready) keeps it allocation-light and just as
 * replayable. The Duplex driver (bus-stream.ts) is the only place with timers.
 */
import { assert } from '../assert.js';
import type { Frame } from './frames.js';
import { streamLimits, type StreamTuning } from './limits.js';
import type { StreamResetReason } from './errors.js';

export type StreamMode = 'bytes' | 'datagram';

export type StreamAction =
  | { readonly type: 'send'; readonly frame: Frame }
  | { readonly type: 'deliver'; readonly payload: Uint8Array }
  | { readonly type: 'writeDone'; readonly token: number }
  | { readonly type: 'finReceived' }
  | { readonly type: 'finSent' }
  | { readonly type: 'closed' }
  /** `byPeer`: the peer sent RST (nothing is sent back); otherwise this side reset and sent RST. */
  | { readonly type: 'reset'; readonly reason: StreamResetReason; readonly detail: string; readonly byPeer: boolean };

export type StreamState = 'open' | 'closed' | 'reset';

interface PendingWrite {
  readonly bytes: Uint8Array;
  offset: number;
  readonly token: number;
}

export interface StreamCoreOptions {
  readonly mode: StreamMode;
  readonly tuning: StreamTuning;
  readonly nowMs: number;
  /** The peer's first limit (its window), when known at creation (the acceptor learns it from the open). */
  readonly sendLimit?: number;
}

export class StreamCore {
  private stateValue: StreamState = 'open';
  private actions: StreamAction[] = [];
  // Send side.
  private sendSeq = 0;
  private sentBytes = 0;
  private sendLimit: number;
  private readonly pending: PendingWrite[] = [];
  private finRequested = false;
  private finSent = false;
  // Receive side.
  private recvSeq = 0;
  private deliveredBytes = 0;
  private consumedBytes = 0;
  private advertisedLimit: number;
  private finReceived = false;
  // Liveness.
  private lastSentMs: number;
  private lastHeardMs: number;

  constructor(private readonly options: StreamCoreOptions) {
    this.sendLimit = options.sendLimit ?? 0;
    this.advertisedLimit = options.tuning.windowBytes;
    this.lastSentMs = options.nowMs;
    this.lastHeardMs = options.nowMs;
  }

  get state(): StreamState {
    return this.stateValue;
  }

  /** The limit this side advertised at creation (sent in the open handshake). */
  get initialWindow(): number {
    return this.options.tuning.windowBytes;
  }

  /** Bytes received and not yet read by the application: never more than one window. */
  bufferedBytes(): number {
    return this.deliveredBytes - this.consumedBytes;
  }

  /** Bytes written by the application and not yet sent (waiting for credit). */
  unsentBytes(): number {
    return this.pending.reduce((sum, write) => sum + write.bytes.byteLength - write.offset, 0);
  }

  /** Everything to do since the last call, in order. */
  takeActions(): StreamAction[] {
    const taken = this.actions;
    this.actions = [];
    return taken;
  }

  /** Queues bytes (bytes mode) or one datagram; `writeDone(token)` once all of it is sent. */
  write(bytes: Uint8Array, token: number, nowMs: number): void {
    if (this.stateValue !== 'open') return;
    assert(!this.finRequested, 'stream write after finish');
    assert(this.options.mode === 'bytes' || bytes.byteLength <= Math.min(streamLimits.datagramBytesMax, this.options.tuning.windowBytes), 'a datagram larger than the largest one reached the stream core');
    this.pending.push({ bytes, offset: 0, token });
    this.pump(nowMs);
  }

  /** No more writes: FIN goes out after everything queued. */
  finish(nowMs: number): void {
    if (this.stateValue !== 'open' || this.finRequested) return;
    this.finRequested = true;
    this.pump(nowMs);
  }

  /** The application has read `totalBytes` since the start (cumulative, never decreasing). */
  consumed(totalBytes: number, nowMs: number): void {
    if (this.stateValue !== 'open') return;
    assert(totalBytes >= this.consumedBytes && totalBytes <= this.deliveredBytes, () => `consumed ${totalBytes} outside [${this.consumedBytes}, ${this.deliveredBytes}]`);
    this.consumedBytes = totalBytes;
    const limit = this.consumedBytes + this.options.tuning.windowBytes;
    if (!this.finReceived && limit - this.advertisedLimit >= this.options.tuning.windowBytes / 2) this.advertise(limit, nowMs);
  }

  receive(frame: Frame, nowMs: number): void {
    if (this.stateValue !== 'open') return;
    this.lastHeardMs = nowMs;
    switch (frame.type) {
      case 'window':
        if (frame.limit > this.sendLimit) {
          this.sendLimit = frame.limit;
          this.pump(nowMs);
        }
        return;
      case 'data':
        if (this.finReceived) return this.fail('protocol', `DATA ${frame.seq} after FIN`, nowMs);
        if (frame.seq !== this.recvSeq) return this.fail('gap', `expected frame ${this.recvSeq}, got ${frame.seq}`, nowMs);
        if (this.deliveredBytes + frame.payload.byteLength > this.advertisedLimit) {
          return this.fail('overrun', `peer sent past its credit (${this.deliveredBytes + frame.payload.byteLength} > ${this.advertisedLimit})`, nowMs);
        }
        this.recvSeq = (this.recvSeq + 1) >>> 0;
        this.deliveredBytes += frame.payload.byteLength;
        this.actions.push({ type: 'deliver', payload: frame.payload });
        return;
      case 'fin':
        if (this.finReceived) return;
        if (frame.seq !== this.recvSeq) return this.fail('gap', `FIN at ${frame.seq}, expected frame ${this.recvSeq}`, nowMs);
        this.finReceived = true;
        this.actions.push({ type: 'finReceived' });
        this.closeIfDone();
        return;
      case 'rst':
        this.stateValue = 'reset';
        this.actions.push({ type: 'reset', reason: 'remote', detail: frame.reason, byPeer: true });
        return;
    }
  }

  /** Keepalive and peer timeout; call at `nextDeadlineMs()` (earlier is harmless). */
  tick(nowMs: number): void {
    if (this.stateValue !== 'open') return;
    if (nowMs - this.lastHeardMs >= this.options.tuning.peerTimeoutMs) {
      return this.fail('peerTimeout', `nothing heard from the peer for ${nowMs - this.lastHeardMs} ms`, nowMs);
    }
    if (nowMs - this.lastSentMs >= this.options.tuning.keepaliveIntervalMs) this.advertise(this.advertisedLimit, nowMs);
  }

  nextDeadlineMs(): number | null {
    if (this.stateValue !== 'open') return null;
    return Math.min(this.lastSentMs + this.options.tuning.keepaliveIntervalMs, this.lastHeardMs + this.options.tuning.peerTimeoutMs);
  }

  /** This side gives up on the stream (destroyed, endpoint closing): RST to the peer. */
  reset(reason: StreamResetReason, detail: string, nowMs: number): void {
    if (this.stateValue !== 'open') return;
    this.fail(reason, detail, nowMs);
  }

  private fail(reason: StreamResetReason, detail: string, nowMs: number): void {
    this.stateValue = 'reset';
    this.pending.length = 0;
    this.send({ type: 'rst', reason: `${reason}: ${detail}` }, nowMs);
    this.actions.push({ type: 'reset', reason, detail, byPeer: false });
  }

  private advertise(limit: number, nowMs: number): void {
    this.advertisedLimit = Math.max(this.advertisedLimit, limit);
    this.send({ type: 'window', limit: this.advertisedLimit }, nowMs);
  }

  private send(frame: Frame, nowMs: number): void {
    this.lastSentMs = nowMs;
    this.actions.push({ type: 'send', frame });
  }

  /** Sends what the credit allows, in order; FIN once nothing is left. */
  private pump(nowMs: number): void {
    while (this.pending.length > 0) {
      const write = this.pending[0]!;
      const credit = this.sendLimit - this.sentBytes;
      const left = write.bytes.byteLength - write.offset;
      if (left === 0 && this.options.mode === 'bytes') {
        // An empty write carries nothing in a byte stream (a datagram of 0 bytes is still one).
        this.pending.shift();
        this.actions.push({ type: 'writeDone', token: write.token });
        continue;
      }
      const size = this.options.mode === 'datagram' ? left : Math.min(left, this.options.tuning.chunkBytesMax, credit);
      if (size > credit || (size === 0 && left > 0)) return; // no credit: the write waits for a WINDOW
      const payload = write.bytes.subarray(write.offset, write.offset + size);
      this.send({ type: 'data', seq: this.sendSeq, payload }, nowMs);
      this.sendSeq = (this.sendSeq + 1) >>> 0;
      this.sentBytes += size;
      write.offset += size;
      if (write.offset === write.bytes.byteLength) {
        this.pending.shift();
        this.actions.push({ type: 'writeDone', token: write.token });
      }
    }
    if (this.finRequested && !this.finSent) {
      this.finSent = true;
      this.send({ type: 'fin', seq: this.sendSeq }, nowMs);
      this.actions.push({ type: 'finSent' });
      this.closeIfDone();
    }
  }

  private closeIfDone(): void {
    if (this.finSent && this.finReceived && this.stateValue === 'open') {
      this.stateValue = 'closed';
      this.actions.push({ type: 'closed' });
    }
  }
}
