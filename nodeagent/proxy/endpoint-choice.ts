/**
 * Which endpoint a new connection goes to (pure; the forwarders act on the result).
 *
 * - Eligible: the ready endpoints; when none is ready, the ones still serving while terminating
 *   (Kubernetes' ProxyTerminatingEndpoints: a rolling update's last pods keep answering rather
 *   than the Service refusing). With a Local traffic policy (externalTrafficPolicy for NodePort
 *   traffic, internalTrafficPolicy for ClusterIP traffic) only this node's endpoints count.
 * - Order: round-robin from a cursor the caller advances per connection; the ClientIP-affinity
 *   endpoint first when it is still eligible. The caller tries them in this order, a bounded number.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { ResolvedEndpoint } from '../services/index.js';
import type { PodNetworks } from '../tunnel/index.js';

/** How traffic reached the proxy: the traffic policy that applies depends on it. */
export type EntryKind = 'clusterIP' | 'nodePort';

export const endpointId = (endpoint: Pick<ResolvedEndpoint, 'address' | 'port'>): string =>
  endpoint.address.includes(':') ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;

export function localOnly(service: Service, entry: EntryKind): boolean {
  return entry === 'nodePort' ? service.spec?.externalTrafficPolicy === 'Local' : service.spec?.internalTrafficPolicy === 'Local';
}

export function eligibleEndpoints(endpoints: readonly ResolvedEndpoint[], options: { readonly localOnly: boolean; readonly nodeName: string }): ResolvedEndpoint[] {
  const candidates = options.localOnly ? endpoints.filter((e) => e.nodeName === options.nodeName) : endpoints;
  const ready = candidates.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return candidates.filter((e) => e.serving && e.terminating);
}

/** The endpoints in the order to try: `preferred` (affinity) first when eligible, then round-robin from `cursor`. */
export function connectOrder(eligible: readonly ResolvedEndpoint[], options: { readonly cursor: number; readonly preferred?: string | undefined }): ResolvedEndpoint[] {
  const count = eligible.length;
  if (count === 0) return [];
  const start = ((options.cursor % count) + count) % count;
  const rotated = [...eligible.slice(start), ...eligible.slice(0, start)];
  if (options.preferred === undefined) return rotated;
  const at = rotated.findIndex((e) => endpointId(e) === options.preferred);
  if (at <= 0) return rotated;
  return [rotated[at]!, ...rotated.slice(0, at), ...rotated.slice(at + 1)];
}

/** An endpoint on a node of another pod network is reached through the NATS tunnel; unknown nodes are dialled directly. */
export function needsTunnel(endpoint: Pick<ResolvedEndpoint, 'nodeName'>, networks: PodNetworks): boolean {
  if (endpoint.nodeName === undefined) return false;
  const network = networks.of(endpoint.nodeName);
  return network !== undefined && network !== networks.self;
}

/** The ClientIP affinity timeout of a Service in ms, or null when it has no affinity. */
export function affinityTimeoutMs(service: Service, defaultSeconds: number): number | null {
  if (service.spec?.sessionAffinity !== 'ClientIP') return null;
  return (service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultSeconds) * 1000;
}
