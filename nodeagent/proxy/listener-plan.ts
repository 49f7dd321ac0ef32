/**
 * Which sockets the proxy should hold for the catalog's Services (pure): for every ClusterIP
 * Service (types ClusterIP, NodePort, LoadBalancer; not headless, not ExternalName) one listener
 * per cluster IP × port, and for NodePort and LoadBalancer Services one per NodePort address ×
 * nodePort. TCP and UDP only: SCTP has no user-space socket in Node (reported, not served).
 *
 * LoadBalancer ingress addresses are the cloud provider's business (the `local` provider listens
 * on them and forwards to NodePorts), not the proxy's.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { CatalogEntry, ServiceKey } from '../services/index.js';
import { clusterIpsOf } from '../services/index.js';
import type { EntryKind } from './endpoint-choice.js';

export interface ListenerSpec {
  /** `TCP/127.96.0.10:80`: one socket per key. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly service: ServiceKey;
  /** The service port's name ('' when unnamed): how its endpoints are looked up. */
  readonly portName: string;
  readonly entry: EntryKind;
}

export interface ListenerPlan {
  readonly listeners: ReadonlyMap<string, ListenerSpec>;
  /** What could not be served, for a log line (SCTP ports, past the listener bound, a key two Services claim). */
  readonly skipped: readonly { readonly service: string; readonly reason: string }[];
}

export const listenerKey = (protocol: string, address: string, port: number): string =>
  address.includes(':') ? `${protocol}/[${address}]:${port}` : `${protocol}/${address}:${port}`;

export function planListeners(entries: Iterable<CatalogEntry>, options: { readonly nodePortAddresses: readonly string[]; readonly listenersMax: number }): ListenerPlan {
  const listeners = new Map<string, ListenerSpec>();
  const skipped: { service: string; reason: string }[] = [];
  const services = [...entries].map((entry) => entry.service).sort(byCreation);
  for (const service of services) {
    const key: ServiceKey = { namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' };
    const name = `${key.namespace}/${key.name}`;
    for (const candidate of listenersOf(service, key, options.nodePortAddresses)) {
      if ('reason' in candidate) {
        skipped.push({ service: name, reason: candidate.reason });
      } else if (listeners.has(candidate.key)) {
        skipped.push({ service: name, reason: `${candidate.key} is already served for another Service` });
      } else if (listeners.size >= options.listenersMax) {
        skipped.push({ service: name, reason: `more than ${options.listenersMax} listeners (proxyLimits.listenersMax)` });
      } else {
        listeners.set(candidate.key, candidate);
      }
    }
  }
  return { listeners, skipped };
}

function* listenersOf(service: Service, key: ServiceKey, nodePortAddresses: readonly string[]): Generator<ListenerSpec | { reason: string }> {
  const type = service.spec?.type ?? 'ClusterIP';
  if (type === 'ExternalName') return;
  const clusterIps = clusterIpsOf(service);
  for (const port of service.spec?.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      yield { reason: `port ${port.name ?? port.port}: ${protocol} is not served by the user-space proxy` };
      continue;
    }
    const portName = port.name ?? '';
    for (const address of clusterIps) {
      yield { key: listenerKey(protocol, address, port.port), address, port: port.port, protocol, service: key, portName, entry: 'clusterIP' };
    }
    if ((type === 'NodePort' || type === 'LoadBalancer') && port.nodePort !== undefined) {
      for (const address of nodePortAddresses) {
        yield { key: listenerKey(protocol, address, port.nodePort), address, port: port.nodePort, protocol, service: key, portName, entry: 'nodePort' };
      }
    }
  }
}

/** The older Service keeps a contested address (then by name): every node decides the same way. */
function byCreation(a: Service, b: Service): number {
  const at = a.metadata?.creationTimestamp ?? '';
  const bt = b.metadata?.creationTimestamp ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  const an = `${a.metadata?.namespace}/${a.metadata?.name}`;
  const bn = `${b.metadata?.namespace}/${b.metadata?.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

export function sameSpec(a: ListenerSpec, b: ListenerSpec): boolean {
  return a.key === b.key && a.service.namespace === b.service.namespace && a.service.name === b.service.name && a.portName === b.portName && a.entry === b.entry;
}
