/**
 * The sockets of the node's DNS server: one UDP socket and one TCP listener on the same address
 * and port (`--cluster-dns`), every message handed to `respond`.
 *
 * Decision: UDP is bound first; with port 0 (tests) TCP then takes the port UDP got, so one
 * `{address, port}` names both. A bind that fails closes what was opened and throws
 * `ClusterDnsBindError` naming the address and the flag: the agent runs on without DNS.
 * TCP connections are bounded in number, idle time and queries each (limits.ts); a length prefix
 * announces at most 64 KiB, so a connection's buffer is bounded too.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { Logger } from '../../bus/logger.js';
import { bindProblemOf, ClusterDnsBindError } from './errors.js';
import { dnsLimits } from './limits.js';
import { isIPv6 } from './names.js';
import type { ResponderDeps } from './responder.js';
import { respond } from './responder.js';

export interface DnsServer {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function listenDns(listen: { readonly address: string; readonly port: number }, deps: ResponderDeps): Promise<DnsServer> {
  const udp = await bindUdp(listen.address, listen.port);
  const port = udp.address().port;
  let tcp: Server;
  try {
    tcp = await bindTcp(listen.address, port);
  } catch (error) {
    udp.close();
    throw error;
  }
  let stopped = false;
  udp.on('message', (message, remote) => {
    void respond(message, 'udp', deps).then((reply) => {
      // A forward that ends after stop() has no socket to answer on.
      if (reply !== null && !stopped) udp.send(reply, remote.port, remote.address);
    }).catch((error: unknown) => deps.logger.warn('dns query failed', { error: String(error) }));
  });
  udp.on('error', (error) => deps.logger.warn('dns udp socket error', { error: error.message }));
  const connections = new Set<TcpSocket>();
  tcp.on('connection', (socket) => serveTcp(socket, connections, deps));
  tcp.on('error', (error) => deps.logger.warn('dns tcp listener error', { error: error.message }));
  return {
    address: listen.address,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}

function bindUdp(address: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const fail = (error: Error): void => {
      socket.close();
      reject(new ClusterDnsBindError(address, port, 'udp', bindProblemOf(error), { cause: error }));
    };
    socket.once('error', fail);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function bindTcp(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: false });
    server.maxConnections = dnsLimits.tcpConnectionsMax;
    const fail = (error: Error): void => {
      server.close();
      reject(new ClusterDnsBindError(address, port, 'tcp', bindProblemOf(error), { cause: error }));
    };
    server.once('error', fail);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', fail);
      resolve(server);
    });
  });
}

/** Length-prefixed messages (RFC 1035 §4.2.2), answered as they complete (ids tell them apart, RFC 7766 §6.2.1.1). */
function serveTcp(socket: TcpSocket, connections: Set<TcpSocket>, deps: ResponderDeps): void {
  connections.add(socket);
  socket.setTimeout(dnsLimits.tcpIdleMs, () => socket.destroy());
  socket.on('close', () => connections.delete(socket));
  socket.on('error', () => socket.destroy());
  let buffered = Buffer.alloc(0);
  let queries = 0;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const size = buffered.readUInt16BE(0);
      if (buffered.length < 2 + size) break;
      const message = Buffer.from(buffered.subarray(2, 2 + size));
      buffered = buffered.subarray(2 + size);
      if (++queries > dnsLimits.tcpQueriesPerConnectionMax) {
        socket.end();
        return;
      }
      void respond(message, 'tcp', deps).then((reply) => {
        if (reply === null || socket.destroyed) return;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([length, reply]));
      }).catch((error: unknown) => deps.logger.warn('dns query failed', { error: String(error) }));
    }
  });
}
