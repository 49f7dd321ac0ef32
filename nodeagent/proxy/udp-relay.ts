/**
 * UDP through the proxy: one listening socket per Service address; each client (address:port) gets
 * a session bound to one endpoint, chosen like a TCP connection, with its own upstream (a
 * connected datagram socket, or a tunnel stream whose chunks are datagrams). Replies go back from
 * the Service address. A session idle for `udpSessionIdleMs` closes.
 *
 * No endpoint: the datagram is dropped. A kernel proxy would answer ICMP port-unreachable; user
 * space cannot send ICMP, so a UDP client learns of it only by its own timeout.
 */
import dgram from 'node:dgram';
import type { Duplex } from 'node:stream';
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ResolvedEndpoint } from '../services/index.js';
import { serviceKeyString } from '../services/index.js';
import type { ConnectionTracker } from './connection-tracker.js';
import { endpointId, needsTunnel } from './endpoint-choice.js';
import type { StreamOpener } from './endpoint-opener.js';
import type { ListenerSpec } from './listener-plan.js';
import type { ProxyTuning } from './limits.js';
import type { ServiceRouter } from './router.js';
import type { PodNetworks } from '../tunnel/index.js';

export interface UdpRelayDeps {
  readonly router: ServiceRouter;
  readonly open: StreamOpener;
  readonly podNetworks: PodNetworks;
  readonly tracker: ConnectionTracker;
  readonly tuning: ProxyTuning;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface Session {
  lastMs: number;
  pending: Buffer[] | null;
  send(datagram: Buffer): void;
  close(): void;
}

export class UdpRelay {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly socket: dgram.Socket, private readonly spec: () => ListenerSpec, private readonly deps: UdpRelayDeps) {
    socket.on('message', (datagram, from) => this.onDatagram(datagram, from));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  close(): void {
    for (const session of [...this.sessions.values()]) session.close();
  }

  private onDatagram(datagram: Buffer, from: dgram.RemoteInfo): void {
    const key = `${from.address}|${from.port}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined) {
      existing.lastMs = this.deps.clock.now();
      return existing.send(datagram);
    }
    const spec = this.spec();
    const service = serviceKeyString(spec.service);
    if (this.sessions.size >= this.deps.tuning.udpSessionsPerListenerMax || this.deps.tracker.count(service) >= this.deps.tuning.connectionsPerServiceMax) {
      this.deps.logger.debug('UDP datagram dropped: session bound reached', { service, listener: spec.key });
      return;
    }
    const route = this.deps.router.route(spec, from.address);
    const endpoint = route.candidates[0];
    if (endpoint === undefined) return; // no endpoint: dropped (see the header)
    route.connected(endpoint);
    const session = this.openSession(key, endpoint, from, spec);
    this.sessions.set(key, session);
    session.send(datagram);
  }

  private openSession(key: string, endpoint: ResolvedEndpoint, client: dgram.RemoteInfo, spec: ListenerSpec): Session {
    const reply = (datagram: Buffer): void => {
      session.lastMs = this.deps.clock.now();
      sendQuietly(() => this.socket.send(datagram, client.port, client.address));
    };
    let upstream: { write(datagram: Buffer): void; close(): void } | null = null;
    let timer: TimerId | null = null;
    let closed = false;
    const session: Session = {
      lastMs: this.deps.clock.now(),
      pending: [],
      send: (datagram) => {
        if (upstream !== null) return upstream.write(datagram);
        if (session.pending !== null && session.pending.length < this.deps.tuning.udpPendingDatagramsMax) session.pending.push(datagram);
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (timer !== null) this.deps.clock.clearTimeout(timer);
        upstream?.close();
        untrack();
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      },
    };
    const untrack = this.deps.tracker.add({ service: serviceKeyString(spec.service), portName: spec.portName, protocol: 'UDP', endpoint: endpointId(endpoint), close: session.close });
    const idleMs = this.deps.tuning.udpSessionIdleMs;
    const checkIdle = (): void => {
      const idle = this.deps.clock.now() - session.lastMs;
      if (idle >= idleMs) return session.close();
      timer = this.deps.clock.setTimeout(checkIdle, idleMs - idle);
    };
    timer = this.deps.clock.setTimeout(checkIdle, idleMs);
    void this.openUpstream(endpoint, reply, session.close).then(
      (opened) => {
        if (closed) return opened.close();
        upstream = opened;
        for (const datagram of session.pending ?? []) opened.write(datagram);
        session.pending = null;
      },
      (error: unknown) => {
        this.deps.logger.debug('UDP session to endpoint failed', { service: serviceKeyString(spec.service), endpoint: endpointId(endpoint), error });
        session.close();
      },
    );
    return session;
  }

  private async openUpstream(endpoint: ResolvedEndpoint, reply: (datagram: Buffer) => void, onFail: () => void): Promise<{ write(datagram: Buffer): void; close(): void }> {
    if (needsTunnel(endpoint, this.deps.podNetworks)) {
      const stream: Duplex = await this.deps.open(endpoint, 'UDP');
      stream.on('data', (chunk: Buffer) => reply(chunk));
      stream.on('error', onFail);
      stream.on('close', onFail);
      return {
        // A stalled tunnel (no credit from the far end) drops datagrams, as UDP does, rather than queue them without bound.
        write: (datagram) => {
          if (!stream.writableNeedDrain) stream.write(datagram);
        },
        close: () => stream.destroy(),
      };
    }
    const socket = dgram.createSocket(endpoint.address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.connect(endpoint.port, endpoint.address, () => {
        socket.removeAllListeners('error');
        resolve();
      });
    });
    socket.on('message', reply);
    // A connected socket learns of ICMP port-unreachable as an error: the session ends, the next datagram picks again.
    socket.on('error', onFail);
    return {
      write: (datagram) => sendQuietly(() => socket.send(datagram)),
      close: () => {
        try {
          socket.close();
        } catch {
          // already closed
        }
      },
    };
  }
}

/** A send on a socket closed meanwhile throws synchronously; for a datagram that is a drop, not a crash of the agent. */
function sendQuietly(send: () => void): void {
  try {
    send();
  } catch {
    // dropped, as UDP may
  }
}
