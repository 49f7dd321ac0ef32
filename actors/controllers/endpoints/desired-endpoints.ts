/**
 * The Endpoints object a Service should have, as a pure function of the Service and its pods
 * (Kubernetes' endpoints controller `syncService`): ready pods' addresses under `addresses`, the
 * others under `notReadyAddresses` (all under `addresses` with publishNotReadyAddresses), ports
 * resolved per pod (a named targetPort may map to different numbers), then repacked so pods that
 * share a port set share a subset.
 *
 * Decision: the output is sorted (addresses by IP then uid, ports by name and number, subsets by
 * their first address) so that "unchanged" is plain structural equality and an unchanged Service
 * is never rewritten.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { endpointHostname, findPodPort, headlessServiceLabel, isHeadlessService, isPodReady, shouldPodBeInEndpoints } from '../../objects/index.js';
import { lastChangeTriggerTimeAnnotation } from './trigger-time.js';
import { endpointsLimits } from './limits.js';

export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

interface PlacedAddress {
  readonly address: EndpointAddress;
  readonly ready: boolean;
  /** Sorted, as a key: the pod's resolved ports. */
  readonly ports: readonly EndpointPort[];
}

function podAddress(service: Service, pod: Pod): EndpointAddress {
  const hostname = endpointHostname(service, pod);
  return {
    ip: pod.status?.podIP ?? '',
    ...(hostname !== undefined ? { hostname } : {}),
    ...(pod.spec?.nodeName !== undefined && pod.spec.nodeName !== '' ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
}

function podPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const port = findPodPort(pod, servicePort);
    // Kubernetes skips a port the pod lacks and keeps the pod's other ports.
    if (port === undefined) continue;
    out.push({
      ...(servicePort.name !== undefined && servicePort.name !== '' ? { name: servicePort.name } : {}),
      port, protocol: servicePort.protocol ?? 'TCP',
      ...(servicePort.appProtocol !== undefined ? { appProtocol: servicePort.appProtocol } : {}),
    });
  }
  return sortPorts(out);
}

function sortPorts(ports: EndpointPort[]): EndpointPort[] {
  return ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip.localeCompare(b.ip, 'en', { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

/** Kubernetes' RepackSubsets: one subset per distinct port set, ready and not-ready addresses apart. */
function repack(placed: readonly PlacedAddress[]): EndpointSubset[] {
  const byPorts = new Map<string, { ports: readonly EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const p of placed) {
    const key = JSON.stringify(p.ports);
    const group = byPorts.get(key) ?? { ports: p.ports, ready: [], notReady: [] };
    byPorts.set(key, group);
    (p.ready ? group.ready : group.notReady).push(p.address);
  }
  const subsets = [...byPorts.values()].map((g) => {
    const subset: EndpointSubset = {};
    if (g.ready.length > 0) subset.addresses = g.ready.sort(compareAddresses);
    if (g.notReady.length > 0) subset.notReadyAddresses = g.notReady.sort(compareAddresses);
    if (g.ports.length > 0) subset.ports = [...g.ports];
    return subset;
  });
  const first = (s: EndpointSubset): EndpointAddress | undefined => s.addresses?.[0] ?? s.notReadyAddresses?.[0];
  return subsets.sort((a, b) => {
    const fa = first(a);
    const fb = first(b);
    return (fa === undefined || fb === undefined ? 0 : compareAddresses(fa, fb)) || JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? []));
  });
}

/**
 * Kubernetes caps an Endpoints object at 1000 addresses and marks it `over-capacity: truncated`
 * (EndpointSlices carry the full set). Ready addresses are kept first.
 */
function truncate(placed: PlacedAddress[]): { placed: PlacedAddress[]; truncated: boolean } {
  const max = endpointsLimits.endpointsAddressesMax;
  if (placed.length <= max) return { placed, truncated: false };
  const ordered = [...placed.filter((p) => p.ready), ...placed.filter((p) => !p.ready)];
  return { placed: ordered.slice(0, max), truncated: true };
}

/** The subsets the Service's pods give it (the pods passed are those its selector selects). */
export function desiredSubsets(service: Service, pods: readonly Pod[]): { readonly subsets: EndpointSubset[]; readonly truncated: boolean } {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const hasPorts = (service.spec?.ports ?? []).length > 0;
  const placed: PlacedAddress[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ports = podPorts(service, pod);
    // A pod offering none of the Service's ports is no endpoint of it; a port-less headless Service lists addresses only.
    if (hasPorts && ports.length === 0) continue;
    if (!hasPorts && !isHeadlessService(service)) continue;
    placed.push({ address: podAddress(service, pod), ready: publishNotReady || isPodReady(pod), ports });
  }
  const { placed: kept, truncated } = truncate(placed);
  return { subsets: repack(kept), truncated };
}

function desiredLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  if (isHeadlessService(service)) labels[headlessServiceLabel] = '';
  else delete labels[headlessServiceLabel];
  return labels;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export type EndpointsAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'create'; readonly body: Endpoints }
  | { readonly kind: 'update'; readonly body: Endpoints };

/**
 * What to write for a Service with a selector, given its current Endpoints (undefined: none
 * stored) and its selected pods. `triggerTime` is the annotation value for a write.
 */
export function endpointsAction(service: Service, current: Endpoints | undefined, pods: readonly Pod[], triggerTime: string | undefined): EndpointsAction {
  const { subsets, truncated } = desiredSubsets(service, pods);
  const labels = desiredLabels(service);
  const currentAnnotations = current?.metadata?.annotations ?? {};
  const capacityCorrect = truncated ? currentAnnotations[overCapacityAnnotation] === 'truncated' : currentAnnotations[overCapacityAnnotation] === undefined;
  if (current !== undefined && sameJson(current.subsets ?? [], subsets) && sameJson(current.metadata?.labels ?? {}, labels) && capacityCorrect) return { kind: 'none' };
  const annotations: Record<string, string> = { ...currentAnnotations };
  if (triggerTime !== undefined) annotations[lastChangeTriggerTimeAnnotation] = triggerTime;
  else delete annotations[lastChangeTriggerTimeAnnotation];
  if (truncated) annotations[overCapacityAnnotation] = 'truncated';
  else delete annotations[overCapacityAnnotation];
  const metadata = {
    ...(current?.metadata ?? {}),
    name: service.metadata?.name ?? '', namespace: service.metadata?.namespace ?? '', labels,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  const body: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets };
  return current === undefined ? { kind: 'create', body } : { kind: 'update', body };
}
