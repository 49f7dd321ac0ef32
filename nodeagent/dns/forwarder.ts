/**
 * Forwarding of names outside the cluster domain to the host's resolvers, over the transport the
 * client used (a UDP answer the upstream truncated reaches the client truncated, and it asks
 * again over TCP, which we forward over TCP), the query's bytes unchanged so the upstream's answer
 * goes back as it is.
 *
 * Decision: one fresh socket per forward (a random source port each, so an off-path attacker must
 * guess it as well as the id), tried upstream after upstream, each bounded by
 * `forwardUpstreamTimeoutMs`; at most `forwardInFlightMax` forwards at once, past which the query
 * is refused with SERVFAIL rather than queued. An answer whose id does not match is ignored.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import type { Clock } from '../../bus/clock.js';
import { DnsForwardError } from './errors.js';
import { dnsLimits } from './limits.js';
import { isIPv6 } from './names.js';
import type { Upstream } from './resolv-conf.js';

export type Transport = 'udp' | 'tcp';

export interface Forwarder {
  /** The upstream's answer to `query`; throws `DnsForwardError` when none answered, or when too many forwards are in flight. */
  forward(query: Buffer, transport: Transport): Promise<Buffer>;
  inFlight(): number;
}

export function createForwarder(options: { readonly upstreams: () => readonly Upstream[]; readonly clock: Clock }): Forwarder {
  let inFlight = 0;
  return {
    inFlight: () => inFlight,
    async forward(query, transport) {
      const upstreams = options.upstreams();
      const names = upstreams.map((upstream) => `${upstream.address}:${upstream.port}`);
      if (upstreams.length === 0) throw new DnsForwardError(names, 'no upstream resolver (the host resolv.conf names none but this server)');
      if (inFlight >= dnsLimits.forwardInFlightMax) throw new DnsForwardError(names, `${dnsLimits.forwardInFlightMax} forwards already in flight`);
      inFlight++;
      try {
        const failures: string[] = [];
        for (const upstream of upstreams) {
          try {
            const ask = transport === 'udp' ? askUdp : askTcp;
            return await ask(query, upstream, options.clock);
          } catch (error) {
            failures.push(`${upstream.address}:${upstream.port}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        throw new DnsForwardError(names, failures.join('; '));
      } finally {
        inFlight--;
      }
    },
  };
}

/** Runs `body` with a settle-once callback pair and a timeout; `cleanup` runs once whichever comes first. */
function bounded<T>(clock: Clock, body: (resolve: (value: T) => void, reject: (error: Error) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanup: () => void = () => undefined;
    const finish = (action: () => void): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      cleanup();
      action();
    };
    const timer = clock.setTimeout(() => finish(() => reject(new Error(`no answer within ${dnsLimits.forwardUpstreamTimeoutMs} ms`))), dnsLimits.forwardUpstreamTimeoutMs);
    cleanup = body((value) => finish(() => resolve(value)), (error) => finish(() => reject(error)));
    if (done) cleanup();
  });
}

function askUdp(query: Buffer, upstream: Upstream, clock: Clock): Promise<Buffer> {
  const id = query.readUInt16BE(0);
  return bounded<Buffer>(clock, (resolve, reject) => {
    const socket: UdpSocket = createSocket(isIPv6(upstream.address) ? 'udp6' : 'udp4');
    socket.on('error', reject);
    socket.on('message', (message, remote) => {
      // Only the upstream's answer to this query: anything else on the port is noise or a spoof.
      if (remote.address !== upstream.address || remote.port !== upstream.port || message.length < 12 || message.readUInt16BE(0) !== id) return;
      resolve(message);
    });
    socket.send(query, upstream.port, upstream.address, (error) => {
      if (error) reject(error);
    });
    return () => socket.close();
  });
}

function askTcp(query: Buffer, upstream: Upstream, clock: Clock): Promise<Buffer> {
  return bounded<Buffer>(clock, (resolve, reject) => {
    const socket: TcpSocket = connect({ host: upstream.address, port: upstream.port });
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const size = received.readUInt16BE(0);
      if (received.length >= 2 + size) resolve(received.subarray(2, 2 + size));
    });
    socket.on('end', () => reject(new Error('the upstream closed the connection before answering')));
    return () => socket.destroy();
  });
}
