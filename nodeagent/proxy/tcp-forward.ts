/**
 * One accepted TCP connection: refused at once (RST) when the Service has no eligible endpoint or
 * is at its connection bound; else the endpoints are tried in the router's order (a bounded
 * number, each bounded in time) and the first that accepts is spliced to the client, both ways,
 * with back-pressure (pipe) and half-close passed on. A reset on either side resets the other.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../bus/logger.js';
import type { ResolvedEndpoint } from '../services/index.js';
import { serviceKeyString } from '../services/index.js';
import type { ConnectionTracker } from './connection-tracker.js';
import { endpointId } from './endpoint-choice.js';
import type { StreamOpener } from './endpoint-opener.js';
import { NoEndpointError } from './errors.js';
import type { ListenerSpec } from './listener-plan.js';
import type { ServiceRouter } from './router.js';

export interface TcpForwardDeps {
  readonly router: ServiceRouter;
  readonly open: StreamOpener;
  readonly tracker: ConnectionTracker;
  readonly connectionsPerServiceMax: number;
  readonly logger: Logger;
}

export function forwardTcp(client: net.Socket, spec: ListenerSpec, deps: TcpForwardDeps): void {
  const service = serviceKeyString(spec.service);
  client.on('error', () => undefined); // a client reset before the splice is nothing to report
  if (deps.tracker.count(service) >= deps.connectionsPerServiceMax) {
    deps.logger.warn('service at its connection bound; connection reset', { service, connectionsMax: deps.connectionsPerServiceMax });
    client.resetAndDestroy();
    return;
  }
  const route = deps.router.route(spec, client.remoteAddress ?? '');
  if (route.candidates.length === 0) {
    client.resetAndDestroy(); // refused at once: the client sees ECONNRESET, not a hang
    return;
  }
  void connectFirst(route.candidates, deps.open).then(
    ({ endpoint, upstream }) => {
      if (client.destroyed) return void upstream.destroy();
      route.connected(endpoint);
      splice(client, upstream, (close) => deps.tracker.add({ service, portName: spec.portName, protocol: 'TCP', endpoint: endpointId(endpoint), close }));
    },
    (error: unknown) => {
      deps.logger.debug('connection reset: no endpoint answered', { service, error: new NoEndpointError(service, spec.portName, route.candidates.map(endpointId), { cause: error }).message });
      client.resetAndDestroy();
    },
  );
}

async function connectFirst(candidates: readonly ResolvedEndpoint[], open: StreamOpener): Promise<{ endpoint: ResolvedEndpoint; upstream: Duplex }> {
  let lastError: unknown;
  for (const endpoint of candidates) {
    try {
      return { endpoint, upstream: await open(endpoint, 'TCP') };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function reset(stream: Duplex): void {
  const socket = stream as Partial<net.Socket> & Duplex;
  if (typeof socket.resetAndDestroy === 'function' && !stream.destroyed) socket.resetAndDestroy();
  else stream.destroy();
}

function splice(client: net.Socket, upstream: Duplex, track: (close: () => void) => () => void): void {
  const untrack = track(() => {
    client.destroy();
    upstream.destroy();
  });
  let closed = 0;
  const onClose = (): void => {
    if (++closed === 2) untrack();
  };
  client.on('close', onClose);
  upstream.on('close', onClose);
  client.on('error', () => reset(upstream));
  upstream.on('error', () => reset(client));
  // A side that closed abnormally (destroyed without an error) takes the other down; a clean end is passed on by pipe.
  client.on('close', () => {
    if (!client.readableEnded) upstream.destroy();
  });
  upstream.on('close', () => {
    if (!upstream.readableEnded) client.destroy();
  });
  client.pipe(upstream);
  upstream.pipe(client);
}
