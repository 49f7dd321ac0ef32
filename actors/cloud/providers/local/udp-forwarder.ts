/**
 * One UDP port of a `local` balancer: datagrams from each client (address:port) go to one node's
 * NodePort through an upstream socket of their own, so the node's replies come back to the right
 * client — the user-space equivalent of a conntrack entry. Nodes are chosen round-robin per new
 * client; a client silent for `udpSessionIdleMs` loses its session; beyond
 * `udpSessionsPerPortMax` clients new ones are dropped (UDP promises no delivery).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Clock, TimerId } from '../../../../bus/index.js';
import { localLimits } from './limits.js';
import { attemptOrder, type Target } from './targets.js';

interface Session {
  readonly upstream: Socket;
  readonly target: Target;
  idleTimer: TimerId;
}

export class UdpForwarder {
  private targets: readonly Target[] = [];
  private cursor = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly socket: Socket;
  private closed = false;

  private constructor(readonly address: string, readonly port: number, private readonly clock: Clock) {
    this.socket = createSocket({ type: 'udp4' });
    this.socket.on('message', (message, remote) => this.fromClient(message, remote.address, remote.port));
  }

  static async open(address: string, port: number, targets: readonly Target[], clock: Clock): Promise<UdpForwarder> {
    const forwarder = new UdpForwarder(address, port, clock);
    forwarder.setTargets(targets);
    await new Promise<void>((resolve, reject) => {
      forwarder.socket.once('error', reject);
      forwarder.socket.bind({ address, port, exclusive: true }, () => {
        forwarder.socket.off('error', reject);
        resolve();
      });
    });
    forwarder.socket.on('error', () => undefined);
    return forwarder;
  }

  /** Clients with an upstream socket now (tests; a gauge for logs). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** New clients go to the new targets; existing sessions keep their node until they go idle. */
  setTargets(targets: readonly Target[]): void {
    this.targets = [...targets];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const key of [...this.sessions.keys()]) this.endSession(key);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private fromClient(message: Buffer, clientAddress: string, clientPort: number): void {
    if (this.closed) return;
    const key = `${clientAddress}:${clientPort}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      if (this.sessions.size >= localLimits.udpSessionsPerPortMax) return;
      const { order, next } = attemptOrder(this.targets, this.cursor);
      this.cursor = next;
      const target = order[0];
      if (target === undefined) return;
      session = this.startSession(key, target, { address: clientAddress, port: clientPort });
    } else {
      this.touch(key, session);
    }
    session.upstream.send(message, session.target.port, session.target.host);
  }

  private startSession(key: string, target: Target, client: { address: string; port: number }): Session {
    const upstream = createSocket({ type: 'udp4' });
    const session: Session = { upstream, target, idleTimer: 0 };
    // Not connect()ed: a datagram sent before an asynchronous connect completes would throw. A
    // send error ends the session; the client's next datagram starts one on the next node.
    upstream.on('error', () => this.endSession(key));
    upstream.on('message', (reply, from) => {
      if (this.closed || from.port !== target.port) return;
      this.touch(key, session);
      this.socket.send(reply, client.port, client.address);
    });
    this.sessions.set(key, session);
    this.touch(key, session);
    return session;
  }

  private touch(key: string, session: Session): void {
    this.clock.clearTimeout(session.idleTimer);
    session.idleTimer = this.clock.setTimeout(() => this.endSession(key), localLimits.udpSessionIdleMs);
  }

  private endSession(key: string): void {
    const session = this.sessions.get(key);
    if (session === undefined) return;
    this.sessions.delete(key);
    this.clock.clearTimeout(session.idleTimer);
    try {
      session.upstream.close();
    } catch {
      // Already closed by an error: nothing left to release.
    }
  }
}
