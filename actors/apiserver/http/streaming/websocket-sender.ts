/**
 * Binary messages to kubectl with backpressure: `ws` buffers whatever it is given and has no
 * 'drain' event, so this counts the bytes handed to it and not yet written to the socket, says
 * "stop" past the bound and calls back once half of it is written. The sessions pause their bus
 * stream on "stop": a slow terminal slows the container instead of filling the member.
 */
import type { WebSocket } from 'ws';

export class WebSocketSender {
  private queuedBytes = 0;
  private blocked = false;
  private readonly drainListeners: (() => void)[] = [];

  constructor(private readonly ws: WebSocket, private readonly highWaterBytes: number) {}

  /** Queues one binary message; false when the caller should stop producing until `onDrain`. */
  send(message: Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.queuedBytes += message.length;
    this.ws.send(message, { binary: true }, () => {
      this.queuedBytes -= message.length;
      if (this.blocked && this.queuedBytes <= this.highWaterBytes / 2) {
        this.blocked = false;
        for (const listener of this.drainListeners.splice(0)) listener();
      }
    });
    if (this.queuedBytes > this.highWaterBytes) this.blocked = true;
    return !this.blocked;
  }

  /** Calls `listener` once the queue fell to half the bound (at once when it is not blocked). */
  onDrain(listener: () => void): void {
    if (!this.blocked) listener();
    else this.drainListeners.push(listener);
  }

  pendingBytes(): number {
    return this.queuedBytes;
  }
}
