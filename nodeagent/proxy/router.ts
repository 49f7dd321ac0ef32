/**
 * The proxy's per-connection decision against the live catalog: the endpoints of the listener's
 * service port, filtered and ordered by endpoint-choice.ts, with the round-robin cursor and the
 * ClientIP affinity table each service port keeps.
 */
import type { Clock } from '../../bus/clock.js';
import type { ResolvedEndpoint, ServiceCatalog, ServiceKey } from '../services/index.js';
import { serviceKeyString } from '../services/index.js';
import { AffinityTable } from './affinity.js';
import { affinityTimeoutMs, connectOrder, eligibleEndpoints, endpointId, localOnly } from './endpoint-choice.js';
import type { ListenerSpec } from './listener-plan.js';
import type { ProxyTuning } from './limits.js';

export interface Route {
  /** Endpoints to try, in order (at most `connectAttemptsMax`); empty: refuse. */
  readonly candidates: readonly ResolvedEndpoint[];
  /** Call with the endpoint that accepted, so the client's next connections stick to it (ClientIP affinity). */
  connected(endpoint: ResolvedEndpoint): void;
}

interface PortState {
  cursor: number;
  affinity: AffinityTable | null;
}

export class ServiceRouter {
  private readonly ports = new Map<string, PortState>();

  constructor(private readonly deps: { readonly catalog: ServiceCatalog; readonly nodeName: string; readonly clock: Clock; readonly tuning: ProxyTuning }) {}

  route(spec: ListenerSpec, clientIp: string): Route {
    const entry = this.deps.catalog.get(spec.service);
    if (entry === undefined) return { candidates: [], connected: () => undefined };
    const endpoints = this.deps.catalog.endpointsFor(spec.service, spec.portName, spec.protocol);
    const eligible = eligibleEndpoints(endpoints, { localOnly: localOnly(entry.service, spec.entry), nodeName: this.deps.nodeName });
    const state = this.portState(spec);
    const timeoutMs = affinityTimeoutMs(entry.service, this.deps.tuning.affinityTimeoutDefaultSeconds);
    const now = this.deps.clock.now();
    let preferred: string | undefined;
    if (timeoutMs !== null) {
      state.affinity ??= new AffinityTable(this.deps.tuning.affinityEntriesMax);
      preferred = state.affinity.lookup(clientIp, now, timeoutMs);
    } else {
      state.affinity = null;
    }
    const order = connectOrder(eligible, { cursor: state.cursor, preferred });
    // The cursor moves only for connections round-robin placed: a sticky client does not skew the others' rotation.
    if (preferred === undefined || order[0] === undefined || endpointId(order[0]) !== preferred) state.cursor = (state.cursor + 1) % 0x7fffffff;
    const affinity = state.affinity;
    return {
      candidates: order.slice(0, this.deps.tuning.connectAttemptsMax),
      connected: (endpoint) => affinity?.remember(clientIp, endpointId(endpoint), this.deps.clock.now()),
    };
  }

  /** Drops the cursors and affinity of a Service that left the catalog. */
  forget(service: ServiceKey): void {
    const prefix = `${serviceKeyString(service)}|`;
    for (const key of [...this.ports.keys()]) if (key.startsWith(prefix)) this.ports.delete(key);
  }

  private portState(spec: ListenerSpec): PortState {
    const key = `${serviceKeyString(spec.service)}|${spec.protocol}|${spec.portName}`;
    let state = this.ports.get(key);
    if (state === undefined) this.ports.set(key, (state = { cursor: 0, affinity: null }));
    return state;
  }
}
