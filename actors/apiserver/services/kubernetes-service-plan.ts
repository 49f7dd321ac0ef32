/**
 * What the `kubernetes` Service of `default` and its Endpoints and EndpointSlices should be, given
 * the live members: pure functions, so every member computes the same objects from the same
 * Leases and the tests need no store.
 *
 * Decision: members on one host (`kubus up`) share an address and differ by port, so endpoints
 * are grouped by port: one Endpoints subset and one EndpointSlice per port, since a slice has one
 * port list for all its endpoints. The first group's slice is named `kubernetes`, as Kubernetes
 * names its one slice (a real cluster, one port, looks the same as Kubernetes'); the others
 * `kubernetes-<port>`. The slices are labelled managed-by `endpoint-reconciler.kubus.io`, so the
 * EndpointSlice controller (which manages only Services with a selector, and only its own slices)
 * leaves them alone.
 */
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import ipaddr from 'ipaddr.js';
import type { MemberEndpoint } from './kubernetes-service-liveness.js';

export const kubernetesServiceName = 'kubernetes';
export const kubernetesServiceNamespace = 'default';
export const kubernetesServicePort = 443;
export const kubernetesServicePortName = 'https';
export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const reconcilerManagedBy = 'endpoint-reconciler.kubus.io';
/** Kubernetes puts it on this Endpoints object: a mirroring controller must not copy it into slices. */
export const skipMirrorLabel = 'endpointslice.kubernetes.io/skip-mirror';

/** The Service a member creates when there is none. Its ClusterIP is explicit: the allocator keeps that address for it. */
export function desiredKubernetesService(clusterIp: string, targetPort: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: kubernetesServiceName, namespace: kubernetesServiceNamespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: clusterIp,
      clusterIPs: [clusterIp],
      ipFamilies: [familyOf(clusterIp)],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None',
      ports: [{ name: kubernetesServicePortName, port: kubernetesServicePort, protocol: 'TCP', targetPort }],
    },
  };
}

/**
 * The Service with what the reconciler owns put back (type, its one `https` port; Kubernetes'
 * master reconciler does the same), or null when nothing needs to change. The ClusterIP is never
 * touched: it is immutable, and a user who deleted the Service gets it back with the reserved one.
 * The targetPort an existing Service has is kept: members may differ by port, and the proxies use
 * the slices' ports anyway.
 */
export function repairedKubernetesService(current: Service, targetPort: number): Service | null {
  const spec = current.spec ?? {};
  const ports = spec.ports ?? [];
  const https = ports[0];
  const portsRight = ports.length === 1 && https !== undefined && https.name === kubernetesServicePortName && https.port === kubernetesServicePort && (https.protocol ?? 'TCP') === 'TCP';
  const selectorless = spec.selector === undefined || Object.keys(spec.selector).length === 0;
  if (portsRight && spec.type === 'ClusterIP' && selectorless) return null;
  const keptTarget = https?.targetPort ?? targetPort;
  const { selector: _selector, ...rest } = spec;
  return {
    ...current,
    spec: { ...rest, type: 'ClusterIP', ports: [{ name: kubernetesServicePortName, port: kubernetesServicePort, protocol: 'TCP', targetPort: portsRight ? keptTarget : targetPort }] },
  };
}

/** The live endpoints grouped by port, each group's addresses sorted and de-duplicated, groups by port. */
export function groupByPort(live: readonly MemberEndpoint[]): { readonly port: number; readonly addresses: string[] }[] {
  const groups = new Map<number, Set<string>>();
  for (const endpoint of live) {
    const set = groups.get(endpoint.port) ?? new Set<string>();
    set.add(endpoint.address);
    groups.set(endpoint.port, set);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([port, addresses]) => ({ port, addresses: [...addresses].sort() }));
}

export function desiredKubernetesEndpoints(live: readonly MemberEndpoint[]): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: kubernetesServiceName, namespace: kubernetesServiceNamespace, labels: { [skipMirrorLabel]: 'true' } },
    subsets: groupByPort(live).map((group) => ({
      addresses: group.addresses.map((ip) => ({ ip })),
      ports: [{ name: kubernetesServicePortName, port: group.port, protocol: 'TCP' }],
    })),
  };
}

export function sliceName(index: number, port: number): string {
  return index === 0 ? kubernetesServiceName : `${kubernetesServiceName}-${port}`;
}

export function desiredKubernetesSlices(live: readonly MemberEndpoint[]): EndpointSlice[] {
  return groupByPort(live).map((group, index) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(index, group.port),
      namespace: kubernetesServiceNamespace,
      labels: { [serviceNameLabel]: kubernetesServiceName, [managedByLabel]: reconcilerManagedBy },
    },
    addressType: familyOf(group.addresses[0] ?? ''),
    endpoints: group.addresses.map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false } })),
    ports: [{ name: kubernetesServicePortName, port: group.port, protocol: 'TCP' }],
  }));
}

/** What the reconciler compares: the fields it owns, so server-set metadata never counts as a difference. */
export function endpointsContent(endpoints: Endpoints): string {
  return JSON.stringify([endpoints.metadata?.labels?.[skipMirrorLabel] ?? '', endpoints.subsets ?? []]);
}

export function sliceContent(slice: EndpointSlice): string {
  const labels = slice.metadata?.labels ?? {};
  return JSON.stringify([labels[serviceNameLabel] ?? '', labels[managedByLabel] ?? '', slice.addressType, slice.endpoints ?? [], slice.ports ?? []]);
}

export interface SliceWrites {
  readonly create: EndpointSlice[];
  /** Desired content over the existing slice's metadata (its resourceVersion guards the write). */
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

/** The writes that turn `existing` (the slices carrying our managed-by label) into `desired`. */
export function planKubernetesSlices(existing: readonly EndpointSlice[], desired: readonly EndpointSlice[]): SliceWrites {
  const byName = new Map(existing.map((slice) => [slice.metadata?.name ?? '', slice]));
  const writes: SliceWrites = { create: [], update: [], delete: [] };
  for (const slice of desired) {
    const name = slice.metadata?.name ?? '';
    const current = byName.get(name);
    byName.delete(name);
    if (current === undefined) writes.create.push(slice);
    else if (sliceContent(current) !== sliceContent(slice)) {
      writes.update.push({ ...slice, metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...slice.metadata?.labels } } });
    }
  }
  writes.delete.push(...byName.values());
  return writes;
}

function familyOf(address: string): 'IPv4' | 'IPv6' {
  return ipaddr.isValid(address) && ipaddr.parse(address).kind() === 'ipv6' ? 'IPv6' : 'IPv4';
}
