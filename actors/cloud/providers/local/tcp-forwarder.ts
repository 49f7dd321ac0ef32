/**
 * One TCP port of a `local` balancer: listens on `<address>:<port>` and joins each accepted
 * connection to a node's NodePort, round-robin over the nodes, trying the next node when one
 * refuses or does not answer within the connect timeout. With no node left the client gets a
 * reset (a clear refusal, as the node proxy gives for a Service with no endpoint).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { localLimits } from './limits.js';
import { attemptOrder, type Target } from './targets.js';

export class TcpForwarder {
  private targets: readonly Target[] = [];
  private cursor = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(readonly address: string, readonly port: number) {
    // Half-open both ways: a client that sends its request and half-closes (socket.end(request))
    // still gets the reply; pipe() carries each side's FIN to the other. No Nagle on either hop: a
    // relay that holds small writes stalls request/response traffic behind delayed ACKs (~40 ms).
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
    this.server.maxConnections = localLimits.connectionsPerPortMax;
  }

  /** Resolves once listening; rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL...). */
  static async open(address: string, port: number, targets: readonly Target[]): Promise<TcpForwarder> {
    const forwarder = new TcpForwarder(address, port);
    forwarder.setTargets(targets);
    await new Promise<void>((resolve, reject) => {
      forwarder.server.once('error', reject);
      forwarder.server.listen({ host: address, port, exclusive: true }, () => {
        forwarder.server.off('error', reject);
        resolve();
      });
    });
    // After listening, an error on the server (rare: EMFILE on accept) must not crash the process.
    forwarder.server.on('error', () => undefined);
    return forwarder;
  }

  setTargets(targets: readonly Target[]): void {
    this.targets = [...targets];
  }

  /** Stops listening and cuts every open connection (the balancer is gone). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on('error', () => undefined);
    const { order, next } = attemptOrder(this.targets, this.cursor);
    this.cursor = next;
    this.connectFirst(client, order);
  }

  private connectFirst(client: Socket, order: readonly Target[]): void {
    const [target, ...rest] = order;
    if (target === undefined || client.destroyed) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port, timeout: localLimits.connectTimeoutMs, allowHalfOpen: true, noDelay: true });
    let connected = false;
    const tryNext = (): void => {
      if (connected) return;
      upstream.destroy();
      this.connectFirst(client, rest);
    };
    upstream.once('timeout', tryNext);
    upstream.once('error', tryNext);
    upstream.once('connect', () => {
      connected = true;
      if (client.destroyed) {
        // The client left (or close() cut it) while the node was answering.
        upstream.destroy();
        return;
      }
      upstream.setTimeout(0);
      upstream.off('error', tryNext);
      this.join(client, upstream);
    });
  }

  private join(client: Socket, upstream: Socket): void {
    this.track(upstream);
    // A reset on one side resets the other: the client sees what the node said.
    client.on('error', () => upstream.resetAndDestroy());
    upstream.on('error', () => client.resetAndDestroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
