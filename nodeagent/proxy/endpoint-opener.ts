/**
 * Opens a stream to an endpoint: a TCP connection when its pod network is this node's (or its
 * node is unknown), else through the NATS tunnel to the endpoint's node (deps.dialer). Either way
 * bounded by `connectTimeoutMs` and a typed error.
 */
import net from 'node:net';
import type { Clock } from '../../bus/clock.js';
import type { Duplex } from 'node:stream';
import type { ResolvedEndpoint } from '../services/index.js';
import type { PodNetworks, TunnelDialer } from '../tunnel/index.js';
import { endpointId, needsTunnel } from './endpoint-choice.js';
import { EndpointConnectTimeoutError } from './errors.js';

export interface OpenerDeps {
  readonly dialer: TunnelDialer;
  readonly podNetworks: PodNetworks;
  readonly connectTimeoutMs: number;
  readonly clock: Clock;
}

export type StreamOpener = (endpoint: ResolvedEndpoint, protocol: 'TCP' | 'UDP') => Promise<Duplex>;

export function createStreamOpener(deps: OpenerDeps): StreamOpener {
  return async (endpoint, protocol) => {
    if (needsTunnel(endpoint, deps.podNetworks)) {
      return deps.dialer.dial({ node: endpoint.nodeName!, address: endpoint.address, port: endpoint.port, protocol }, { timeoutMs: deps.connectTimeoutMs });
    }
    if (protocol === 'UDP') throw new Error('a direct UDP endpoint is opened as a datagram socket (udp-relay.ts), not a stream');
    return connectTcp(endpoint, { timeoutMs: deps.connectTimeoutMs, clock: deps.clock });
  };
}

export function connectTcp(endpoint: Pick<ResolvedEndpoint, 'address' | 'port'>, options: { readonly timeoutMs: number; readonly clock: Clock }): Promise<net.Socket> {
  const { timeoutMs, clock } = options;
  return new Promise((resolve, reject) => {
    // allowHalfOpen: a client that finishes sending still gets the whole reply (the end is passed on, not turned into a close).
    const socket = net.connect({ host: endpoint.address, port: endpoint.port, allowHalfOpen: true, noDelay: true });
    const timer = clock.setTimeout(() => {
      socket.destroy();
      reject(new EndpointConnectTimeoutError(endpointId(endpoint), timeoutMs));
    }, timeoutMs);
    socket.once('connect', () => {
      clock.clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clock.clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}
