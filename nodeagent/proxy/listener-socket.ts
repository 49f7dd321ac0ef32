/**
 * Binding one listener's socket (TCP server or UDP socket) for the listener machine. A bind that
 * completes after the machine gave up on it (stop during bind) is closed at once.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { AddressNotServedError } from './errors.js';
import type { ListenerSpec } from './listener-plan.js';
import { isLoopback, isRoot, type LocalRoutes } from './local-address.js';

export interface BoundListener {
  close(): Promise<void>;
}

export interface SocketHandlers {
  onConnection(socket: net.Socket): void;
  /** The bound UDP socket (the relay attaches to it); returns the relay's close. */
  onUdpSocket(socket: dgram.Socket): () => void;
}

export async function bindListener(spec: ListenerSpec, options: { readonly handlers: SocketHandlers; readonly routes: LocalRoutes; readonly signal: AbortSignal }): Promise<BoundListener> {
  try {
    return await bindOnce(spec, options);
  } catch (error) {
    if (errorCode(error) === 'EACCES') {
      throw new AddressNotServedError(spec.address, 'ports below 1024 need a root agent or CAP_NET_BIND_SERVICE (or a lower sysctl net.ipv4.ip_unprivileged_port_start)', spec.port);
    }
    if (errorCode(error) !== 'EADDRNOTAVAIL') throw error;
    if (spec.entry !== 'clusterIP' || isLoopback(spec.address)) throw new AddressNotServedError(spec.address, 'the address is not on this host');
    if (!isRoot()) throw new AddressNotServedError(spec.address, 'a non-loopback ClusterIP needs a local route (ip route add local <ip>/32 dev lo), which only a root agent may add; use a loopback --service-cluster-ip-range or run the agent as root');
    await options.routes.add(spec.address);
    return bindOnce(spec, options);
  }
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

async function bindOnce(spec: ListenerSpec, options: { readonly handlers: SocketHandlers; readonly signal: AbortSignal }): Promise<BoundListener> {
  const bound = spec.protocol === 'TCP' ? await bindTcp(spec, options.handlers) : await bindUdp(spec, options.handlers);
  if (options.signal.aborted) {
    await bound.close();
    throw new Error('listener stopped while binding');
  }
  return bound;
}

function bindTcp(spec: ListenerSpec, handlers: SocketHandlers): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    // noDelay: the proxy relays what it reads at once; Nagle on the relay would hold a small write back
    // until the previous one is acknowledged (up to the peer's delayed-ACK time), per hop.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handlers.onConnection(socket));
    server.once('error', reject);
    server.listen({ host: spec.address, port: spec.port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => undefined); // a listening server's later errors are per connection
      resolve({
        // Stops accepting at once; open connections are the tracker's (they drain or are closed by
        // it), so the close callback, which waits for them, is not awaited.
        close: async () => void server.close(),
      });
    });
  });
}

function bindUdp(spec: ListenerSpec, handlers: SocketHandlers): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: spec.address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      const closeRelay = handlers.onUdpSocket(socket);
      resolve({
        close: () => new Promise((done) => {
          closeRelay();
          socket.close(() => done());
        }),
      });
    });
  });
}
