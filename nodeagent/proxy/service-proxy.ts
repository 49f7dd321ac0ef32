/**
 * The proxy's composition: the listener plan follows the catalog (one machine per Service
 * address), connections are routed against the live catalog, and open connections follow their
 * endpoints (draining). Everything keeps running on the last catalog state while the API is
 * unreachable: nothing here waits for the control plane.
 */
import { createActor, toPromise, type ActorRefFrom } from 'xstate';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ServiceKey } from '../services/index.js';
import { serviceKeyString } from '../services/index.js';
import { ConnectionTracker } from './connection-tracker.js';
import { AddressNotServedError } from './errors.js';
import { endpointId } from './endpoint-choice.js';
import { createStreamOpener } from './endpoint-opener.js';
import { listenerMachine, type ListenerState } from './listener-machine.js';
import { planListeners, type ListenerSpec } from './listener-plan.js';
import { bindListener, type SocketHandlers } from './listener-socket.js';
import { LocalRoutes } from './local-address.js';
import { checkProxyTuning, proxyLimits, type ProxyTuning } from './limits.js';
import { ServiceRouter } from './router.js';
import { forwardTcp } from './tcp-forward.js';
import { UdpRelay } from './udp-relay.js';
import type { ServiceProxyDeps } from './types.js';

export interface ServiceProxyHandle {
  /** Each listener's state by key (`TCP/127.96.0.10:80`): which addresses this proxy serves, stands by for, cannot serve. */
  listeners(): ReadonlyMap<string, ListenerState>;
  /** Open TCP connections and UDP sessions of a Service. */
  connections(service: ServiceKey): number;
  stop(): Promise<void>;
}

export interface ProxyContext {
  readonly nodeName: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A missing address is told once per address; a refused port (privilege) once per address and port. */
function unavailableKey(spec: ListenerSpec, error: unknown): string {
  return error instanceof AddressNotServedError && error.port !== undefined ? spec.key : spec.address;
}

export function createServiceProxy(ctx: ProxyContext, deps: ServiceProxyDeps, tuning: ProxyTuning = proxyLimits): ServiceProxyHandle {
  checkProxyTuning(tuning);
  const logger = ctx.logger.child({ part: 'service-proxy' });
  const { catalog } = deps;
  const router = new ServiceRouter({ catalog, nodeName: ctx.nodeName, clock: ctx.clock, tuning });
  const tracker = new ConnectionTracker(ctx.clock, tuning.drainMs);
  const open = createStreamOpener({ dialer: deps.dialer, podNetworks: deps.podNetworks, connectTimeoutMs: tuning.connectTimeoutMs, clock: ctx.clock });
  const routes = new LocalRoutes();
  const specs = new Map<string, ListenerSpec>();
  const actors = new Map<string, ActorRefFrom<typeof listenerMachine>>();
  const states = new Map<string, ListenerState>();
  const reportedAddresses = new Set<string>();
  const reportedSkips = new Set<string>();
  const reportedStandby = new Set<string>();
  /** The generation of the listener machine that owns each key now. */
  const current = new Map<string, number>();
  let generations = 0;
  let stopped = false;

  const onState = (spec: ListenerSpec, state: ListenerState, error?: unknown): void => {
    const tookOver = state === 'serving' && reportedStandby.has(spec.key);
    if (state === 'stopped') states.delete(spec.key);
    else states.set(spec.key, state);
    const fields = { listener: spec.key, service: serviceKeyString(spec.service) };
    if (state === 'serving') {
      // One line per address would flood a large cluster's log; a take-over is worth telling.
      if (tookOver) logger.info('took over a Service address another proxy on this host served', fields);
      else logger.debug('serving', fields);
      reportedStandby.delete(spec.key);
    } else if (state === 'standby' && !reportedStandby.has(spec.key)) {
      // Once per address: a stand-by retries every second for as long as the other proxy runs.
      reportedStandby.add(spec.key);
      logger.info('another proxy on this host serves this address; standing by to take over', fields);
    } else if (state === 'unavailable' && !reportedAddresses.has(unavailableKey(spec, error))) {
      reportedAddresses.add(unavailableKey(spec, error));
      logger.warn('cannot serve a Service address on this node', { ...fields, error: error instanceof Error ? error.message : String(error) });
    }
  };

  // The spec of a key may be updated in place (same address, the Service's port renamed): handlers read the current one.
  const handlersFor = (initial: ListenerSpec): SocketHandlers => ({
    onConnection: (socket) => {
      const spec = specs.get(initial.key);
      if (spec === undefined) return void socket.resetAndDestroy(); // the listener is closing
      forwardTcp(socket, spec, { router, open, tracker, connectionsPerServiceMax: tuning.connectionsPerServiceMax, logger });
    },
    onUdpSocket: (socket) => {
      const relay = new UdpRelay(socket, () => specs.get(initial.key) ?? initial, { router, open, podNetworks: deps.podNetworks, tracker, tuning, clock: ctx.clock, logger });
      return () => relay.close();
    },
  });

  const startListener = (spec: ListenerSpec): void => {
    specs.set(spec.key, spec);
    const handlers = handlersFor(spec);
    const generation = ++generations;
    current.set(spec.key, generation);
    const actor = createActor(listenerMachine, {
      clock: ctx.clock,
      id: `listener ${spec.key}`,
      input: {
        spec,
        bind: (bound, signal) => bindListener(bound, { handlers, routes, signal }),
        standbyRetryMs: tuning.standbyRetryMs,
        unavailableRetryMs: tuning.unavailableRetryMs,
        // A stopped listener's last states must not overwrite those of its successor on the same address.
        onState: (bound, state, error) => {
          if (current.get(bound.key) === generation) onState(bound, state, error);
        },
      },
    });
    actors.set(spec.key, actor);
    actor.start();
  };

  const stopListener = (key: string): Promise<void> => {
    const actor = actors.get(key);
    actors.delete(key);
    specs.delete(key);
    current.delete(key);
    states.delete(key);
    if (actor === undefined) return Promise.resolve();
    actor.send({ type: 'listener.stop' });
    return toPromise(actor).then(() => undefined, () => undefined);
  };

  const reconcile = (changed: readonly ServiceKey[] | 'all'): void => {
    if (stopped) return;
    const plan = planListeners(catalog.entries(), { nodePortAddresses: deps.config.nodePortAddresses, listenersMax: tuning.listenersMax });
    for (const skip of plan.skipped) {
      const text = `${skip.service}: ${skip.reason}`;
      if (!reportedSkips.has(text)) logger.warn('a Service port is not served', { service: skip.service, reason: skip.reason });
      reportedSkips.add(text);
    }
    for (const key of [...actors.keys()]) if (!plan.listeners.has(key)) void stopListener(key);
    for (const [key, spec] of plan.listeners) {
      if (actors.has(key)) specs.set(key, spec);
      else startListener(spec);
    }
    const services = changed === 'all' ? tracker.services() : changed.map(serviceKeyString);
    for (const service of services) {
      const slash = service.indexOf('/');
      const key = { namespace: service.slice(0, slash), name: service.slice(slash + 1) };
      const present = catalog.get(key) !== undefined;
      if (!present) router.forget(key);
      tracker.reconcile(service, (connection) => present && catalog.endpointsFor(key, connection.portName, connection.protocol).some((e) => endpointId(e) === connection.endpoint));
    }
  };

  // Nothing is served before both Services and EndpointSlices were listed (kube-proxy's rule): a
  // Service listened on before its slices arrive would reset every client meanwhile.
  let ready = catalog.synced();
  const unsubscribe = catalog.subscribe((changed) => {
    if (ready) reconcile(changed);
  });
  if (ready) {
    reconcile('all');
  } else {
    void (async () => {
      while (!stopped && !(await catalog.waitForSync(tuning.syncWaitLogMs))) logger.warn('the service catalog has not synced yet; serving nothing until it has', { waitedMs: tuning.syncWaitLogMs });
      ready = true;
      reconcile('all');
    })();
  }

  return {
    listeners: () => new Map(states),
    connections: (service) => tracker.count(serviceKeyString(service)),
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      const closing = Promise.all([...actors.keys()].map(stopListener));
      let timer: number | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = ctx.clock.setTimeout(resolve, tuning.stopMs);
      });
      await Promise.race([closing, bound]);
      if (timer !== undefined) ctx.clock.clearTimeout(timer);
      tracker.closeAll();
      await routes.removeAll();
    },
  };
}
