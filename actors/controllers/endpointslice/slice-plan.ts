/**
 * Which EndpointSlice writes bring a Service's slices to the desired endpoints with the least churn
 * (Kubernetes' endpointslice reconciler, `reconcileByPortMapping` then `finalize`):
 * 1. in each existing slice, drop endpoints no longer desired and refresh changed ones in place;
 * 2. fill the slices already being updated (fullest first) with the desired endpoints left;
 * 3. put what remains in new full slices, and a last partial remainder into the unchanged slice
 *    with the most room that can take it all, else a new slice;
 * 4. a slice that would be deleted is reused for a slice that would be created (an update instead
 *    of a delete and a create); with no endpoints at all, one empty placeholder slice remains.
 * Writes are ordered create, update, delete by the caller so a consumer never sees a gap.
 */
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { controllerRef, headlessServiceLabel, isHeadlessService } from '../../objects/index.js';
import { lastChangeTriggerTimeAnnotation } from '../endpoints/index.js';
import { endpointKey, portsKey, type PortGroup } from './desired-slice-endpoints.js';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const managedByValue = 'endpointslice-controller.k8s.io';

export interface SlicePlan {
  readonly create: EndpointSlice[];
  /** Full objects (resourceVersion kept) to write back. */
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

export interface SlicePlanOptions {
  readonly maxEndpointsPerSlice: number;
  readonly triggerTime?: string | undefined;
}

/** The labels Kubernetes puts on a managed slice: the Service's own, then the reserved ones. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  delete labels[headlessServiceLabel];
  labels[serviceNameLabel] = service.metadata?.name ?? '';
  labels[managedByLabel] = managedByValue;
  if (isHeadlessService(service)) labels[headlessServiceLabel] = '';
  return labels;
}

function newSlice(service: Service, ports: readonly EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      generateName: `${service.metadata?.name ?? ''}-`, namespace: service.metadata?.namespace ?? '',
      labels: sliceLabels(service), ownerReferences: [{ ...controllerRef({ apiVersion: 'v1', kind: 'Service', metadata: service.metadata ?? {} }) }],
    },
    addressType: 'IPv4', endpoints, ports: [...ports],
  };
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

interface Pending {
  readonly slice: EndpointSlice;
  endpoints: Endpoint[];
}

/** Steps 1–3 for one port set; `desired` is consumed. */
function planPortGroup(service: Service, existing: readonly EndpointSlice[], group: PortGroup, options: SlicePlanOptions, out: { create: Pending[]; update: Pending[]; delete: EndpointSlice[] }): void {
  const desired = new Map(group.endpoints);
  const labels = sliceLabels(service);
  const unchanged: EndpointSlice[] = [];
  const updating: Pending[] = [];
  for (const slice of existing) {
    const kept: Endpoint[] = [];
    let changed = false;
    for (const endpoint of slice.endpoints ?? []) {
      const key = endpointKey(endpoint);
      const want = desired.get(key);
      if (want === undefined) continue;
      if (!sameJson(want, endpoint)) changed = true;
      kept.push(want);
      desired.delete(key);
    }
    if (changed || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) out.delete.push(slice);
      else updating.push({ slice, endpoints: kept });
    } else if (!sameJson(slice.metadata?.labels ?? {}, labels)) updating.push({ slice, endpoints: kept });
    else unchanged.push(slice);
  }
  const rest = [...desired.values()];
  updating.sort((a, b) => b.endpoints.length - a.endpoints.length);
  for (const pending of updating) {
    while (pending.endpoints.length < options.maxEndpointsPerSlice && rest.length > 0) pending.endpoints.push(rest.shift() as Endpoint);
  }
  out.update.push(...updating);
  while (rest.length >= options.maxEndpointsPerSlice) out.create.push({ slice: newSlice(service, group.ports, []), endpoints: rest.splice(0, options.maxEndpointsPerSlice) });
  if (rest.length === 0) return;
  // The unchanged slice with the most endpoints that still has room for all the rest.
  const fits = unchanged.filter((s) => (s.endpoints ?? []).length + rest.length <= options.maxEndpointsPerSlice)
    .sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length)[0];
  if (fits !== undefined) out.update.push({ slice: fits, endpoints: [...(fits.endpoints ?? []), ...rest] });
  else out.create.push({ slice: newSlice(service, group.ports, []), endpoints: rest });
}

function isPlaceholder(slice: EndpointSlice): boolean {
  return (slice.endpoints ?? []).length === 0 && (slice.ports ?? []).length === 0;
}

function finish(service: Service, pending: Pending, options: SlicePlanOptions): EndpointSlice {
  const annotations: Record<string, string> = { ...(pending.slice.metadata?.annotations ?? {}) };
  if (options.triggerTime !== undefined) annotations[lastChangeTriggerTimeAnnotation] = options.triggerTime;
  return {
    ...pending.slice,
    metadata: { ...pending.slice.metadata, labels: sliceLabels(service), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    endpoints: pending.endpoints,
  };
}

/** The plan for a Service's managed slices (`existing`) and its desired endpoints by port set. */
export function planSlices(service: Service, existing: readonly EndpointSlice[], desired: ReadonlyMap<string, PortGroup>, options: SlicePlanOptions): SlicePlan {
  const out = { create: [] as Pending[], update: [] as Pending[], delete: [] as EndpointSlice[] };
  const byPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    const key = portsKey(slice.ports ?? []);
    byPorts.set(key, [...(byPorts.get(key) ?? []), slice]);
  }
  for (const [key, group] of desired) planPortGroup(service, byPorts.get(key) ?? [], group, options, out);
  for (const [key, slices] of byPorts) if (!desired.has(key)) out.delete.push(...slices);
  if (out.delete.length === existing.length && out.create.length === 0) {
    const onlyPlaceholder = out.delete.length === 1 && isPlaceholder(out.delete[0] as EndpointSlice) && sameJson(out.delete[0]?.metadata?.labels ?? {}, sliceLabels(service));
    if (onlyPlaceholder) out.delete.length = 0;
    else out.create.push({ slice: newSlice(service, [], []), endpoints: [] });
  }
  // Reuse a slice about to be deleted for each slice about to be created: one update, not two writes.
  while (out.create.length > 0 && out.delete.length > 0) {
    const created = out.create.shift() as Pending;
    const reused = out.delete.shift() as EndpointSlice;
    out.update.push({ slice: { ...reused, ports: [...(created.slice.ports ?? [])] }, endpoints: created.endpoints });
  }
  return {
    create: out.create.map((p) => finish(service, p, options)),
    update: out.update.map((p) => finish(service, p, options)),
    delete: out.delete,
  };
}
