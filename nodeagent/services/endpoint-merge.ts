/**
 * From a Service's EndpointSlices to the endpoints of one service port (pure).
 *
 * Decision: Kubernetes' reading of slices, as kube-proxy does it: a slice counts for the port when
 * it lists a port of that name and protocol (unnamed = ''); an endpoint's `ready` absent means
 * ready, `serving` absent means the same as ready, `terminating` absent means false; one address
 * appearing in several slices (a slice being split or moved) is one endpoint, the ready copy
 * winning. The result is sorted by address so every node walks endpoints in the same order.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ResolvedEndpoint, ServiceProtocol } from './catalog.js';

/** The EndpointSlice label naming its Service (set by the EndpointSlice controller). */
export const serviceNameLabel = 'kubernetes.io/service-name';

export function resolveEndpoints(slices: readonly EndpointSlice[], portName: string, protocol: ServiceProtocol): ResolvedEndpoint[] {
  const byAddress = new Map<string, ResolvedEndpoint>();
  for (const slice of slices) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (port?.port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses[0];
      if (address === undefined) continue;
      const ready = endpoint.conditions?.ready ?? true;
      const resolved: ResolvedEndpoint = {
        address,
        port: port.port,
        ready,
        serving: endpoint.conditions?.serving ?? ready,
        terminating: endpoint.conditions?.terminating ?? false,
        ...(endpoint.nodeName !== undefined ? { nodeName: endpoint.nodeName } : {}),
        ...(endpoint.hostname !== undefined ? { hostname: endpoint.hostname } : {}),
        ...(endpoint.zone !== undefined ? { zone: endpoint.zone } : {}),
        ...(endpoint.targetRef !== undefined ? { targetRef: targetRefOf(endpoint.targetRef) } : {}),
      };
      const previous = byAddress.get(address);
      if (previous === undefined || (!previous.ready && resolved.ready)) byAddress.set(address, resolved);
    }
  }
  return [...byAddress.values()].sort((a, b) => compareAddresses(a.address, b.address));
}

function targetRefOf(ref: NonNullable<NonNullable<EndpointSlice['endpoints']>[number]['targetRef']>): NonNullable<ResolvedEndpoint['targetRef']> {
  return {
    ...(ref.kind !== undefined ? { kind: ref.kind } : {}),
    ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
    ...(ref.name !== undefined ? { name: ref.name } : {}),
    ...(ref.uid !== undefined ? { uid: ref.uid } : {}),
  };
}

function compareAddresses(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
