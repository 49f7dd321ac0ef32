/**
 * The endpoints a Service's EndpointSlices should hold, grouped by the port set each pod resolves
 * (Kubernetes' endpointslice reconciler: one group of slices per distinct port mapping). Unlike
 * Endpoints, terminating pods stay in, marked `terminating`, so consumers can drain them.
 */
import type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { endpointHostname, findPodPort, isPodReady, shouldPodBeInEndpoints } from '../../objects/index.js';

export interface PortGroup {
  readonly ports: readonly EndpointPort[];
  /** By endpointKey, in key order. */
  readonly endpoints: ReadonlyMap<string, Endpoint>;
}

/** Kubernetes' endpoint hash: its addresses, hostname and target pod; two endpoints with one key are the same endpoint, possibly changed. */
export function endpointKey(endpoint: Endpoint): string {
  return JSON.stringify([[...endpoint.addresses].sort(), endpoint.hostname ?? '', endpoint.targetRef?.namespace ?? '', endpoint.targetRef?.name ?? '']);
}

/** The key of a port set (sorted, so order in the Service does not matter). */
export function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify([...ports].map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());
}

function slicePorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const port = findPodPort(pod, servicePort);
    if (port === undefined) continue;
    out.push({ name: servicePort.name ?? '', port, protocol: servicePort.protocol ?? 'TCP', ...(servicePort.appProtocol !== undefined ? { appProtocol: servicePort.appProtocol } : {}) });
  }
  return out;
}

/** Kubernetes' podToEndpoint: ready never true for a terminating pod unless publishNotReadyAddresses. */
function podEndpoint(service: Service, pod: Pod, zoneOf: (nodeName: string) => string | undefined): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata?.deletionTimestamp !== undefined;
  const ready = service.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const nodeName = pod.spec?.nodeName ?? '';
  const zone = nodeName === '' ? undefined : zoneOf(nodeName);
  const hostname = endpointHostname(service, pod);
  return {
    addresses: [pod.status?.podIP ?? ''],
    conditions: { ready, serving, terminating },
    ...(hostname !== undefined ? { hostname } : {}),
    ...(nodeName !== '' ? { nodeName } : {}),
    ...(zone !== undefined ? { zone } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
}

const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** The desired endpoints by port set, for addressType IPv4 (the one family kubus pods have). */
export function desiredSliceEndpoints(service: Service, pods: readonly Pod[], zoneOf: (nodeName: string) => string | undefined = () => undefined): Map<string, PortGroup> {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  const hasPorts = (service.spec?.ports ?? []).length > 0;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true) || !isIPv4(pod.status?.podIP ?? '')) continue;
    const ports = slicePorts(service, pod);
    if (hasPorts && ports.length === 0) continue;
    const key = portsKey(ports);
    const group = groups.get(key) ?? { ports, endpoints: new Map<string, Endpoint>() };
    groups.set(key, group);
    const endpoint = podEndpoint(service, pod, zoneOf);
    group.endpoints.set(endpointKey(endpoint), endpoint);
  }
  for (const group of groups.values()) {
    const sorted = [...group.endpoints.entries()].sort(([a], [b]) => a.localeCompare(b));
    group.endpoints.clear();
    for (const [k, e] of sorted) group.endpoints.set(k, e);
  }
  return groups;
}
