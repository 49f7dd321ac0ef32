/**
 * The far end's local side: a TCP connection or a connected UDP socket to the pod, and the splice
 * between it and the tunnel stream. Back-pressure both ways (pipe: a slow pod stops the stream's
 * credit, a slow stream reader stops reading the pod), half-close passed on, and a reset on either
 * side resets the other (a stream error becomes a TCP RST to the pod, a pod's reset an RST frame).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Clock, TimerId } from '../../bus/clock.js';
import type { BusStream } from '../../bus/stream/index.js';
import type { TunnelTarget } from './types.js';

/** Connects to the pod within `timeoutMs`; rejects with the socket's error (ECONNREFUSED, ...) or a timeout. */
export function connectTcp(target: TunnelTarget, options: { readonly timeoutMs: number; readonly clock: Clock }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the pod's FIN is passed on as the stream's FIN, the other way still open.
    const socket = net.connect({ host: target.address, port: target.port, allowHalfOpen: true });
    const timer = options.clock.setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    socket.once('connect', () => {
      options.clock.clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      options.clock.clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

export function spliceTcp(socket: net.Socket, stream: BusStream): void {
  socket.on('error', (error) => {
    if (!stream.destroyed) stream.destroy(error);
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.resetAndDestroy();
  });
  // No 'close' handler: a socket closes cleanly once both directions ended, possibly while the
  // stream still holds the pod's last bytes for a slow reader; only an error (above) resets.
  socket.pipe(stream);
  stream.pipe(socket);
}

/** A UDP socket connected to the pod (connect only fixes the peer: it never fails for an unreachable pod). */
export function connectUdp(target: TunnelTarget): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(target.address) ? 'udp6' : 'udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect(target.port, target.address, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/**
 * Datagrams both ways between the stream (one chunk = one datagram) and the pod. A datagram from the
 * pod while the stream has no room is dropped (UDP semantics: nothing queues without bound); the
 * flow ends after `idleMs` without a datagram either way.
 */
export function relayUdp(socket: dgram.Socket, stream: BusStream, options: { readonly idleMs: number; readonly clock: Clock; readonly onDrop?: () => void }): void {
  let lastMs = options.clock.now();
  let timer: TimerId | null = null;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (timer !== null) options.clock.clearTimeout(timer);
    socket.close();
    if (!stream.destroyed) stream.destroy();
  };
  const armIdle = (): void => {
    timer = options.clock.setTimeout(() => {
      timer = null;
      if (options.clock.now() - lastMs >= options.idleMs) close();
      else armIdle();
    }, Math.max(0, lastMs + options.idleMs - options.clock.now()));
  };
  socket.on('message', (datagram) => {
    lastMs = options.clock.now();
    if (stream.destroyed || stream.writableEnded) return;
    if (stream.writableNeedDrain) return void options.onDrop?.();
    stream.write(datagram);
  });
  // ICMP unreachable surfaces as an error on a connected socket: the pod's port is gone. Closing
  // resets the stream, so the proxy drops the session and its next datagram picks an endpoint again
  // (as on the direct path); a session kept open would stay pinned to a dead endpoint.
  socket.on('error', close);
  stream.on('data', (datagram: Buffer) => {
    lastMs = options.clock.now();
    if (!closed) socket.send(datagram);
  });
  stream.on('end', close);
  stream.on('error', close);
  stream.on('close', close);
  armIdle();
}
