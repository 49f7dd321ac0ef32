/**
 * One pass of the `kubernetes` Service reconciler against the member's object store: renew this
 * member's Lease, read every member's Lease, and write the Service, its Endpoints and its
 * EndpointSlices where they differ from what the live members make them (kubernetes-service-plan.ts).
 *
 * Decision: the reconciler writes through the member's ObjectStore, beneath authorization and
 * admission, as kube-apiserver's own endpoint reconciler writes to its storage: it is the API server
 * maintaining its own record, not a client. Every write is guarded by the resourceVersion read
 * (the store's compare-and-swap), so members reconciling at once cannot lose each other's
 * writes; a lost race is a 409 and the next pass looks again.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import {
  liveMembers, memberLeaseLabel, memberLeaseLabelValue, memberLeaseName, memberLeaseNamespace, renewedMemberLease, type MemberEndpoint, type Sighting,
} from './kubernetes-service-liveness.js';
import {
  desiredKubernetesEndpoints, desiredKubernetesService, desiredKubernetesSlices, endpointsContent, kubernetesServiceName, kubernetesServiceNamespace,
  managedByLabel, planKubernetesSlices, reconcilerManagedBy, repairedKubernetesService, serviceNameLabel,
} from './kubernetes-service-plan.js';

const resources = {
  leases: findResource('coordination.k8s.io', 'v1', 'leases') as ResourceInfo,
  services: findResource('', 'v1', 'services') as ResourceInfo,
  endpoints: findResource('', 'v1', 'endpoints') as ResourceInfo,
  endpointslices: findResource('discovery.k8s.io', 'v1', 'endpointslices') as ResourceInfo,
} as const;

export interface PassInput {
  readonly objects: ObjectStorage;
  readonly self: MemberEndpoint;
  /** The Service's ClusterIP when it has to be created: the first usable address of the range. */
  readonly clusterIp: string;
  readonly leaseDurationSeconds: number;
  readonly membersMax: number;
  readonly firstSightingSkewMs: number;
  /** Monotonic ms (the injected clock): expiry of others' Leases. */
  readonly nowMs: () => number;
  /** Wall time for the Lease's renewTime, read by people and by a member seeing it first. */
  readonly wallClock: () => Date;
}

export interface PassResult {
  readonly live: MemberEndpoint[];
  readonly sightings: Map<string, Sighting>;
  /** Objects written in this pass (0: everything was already right). */
  readonly writes: number;
}

const isStatus = (error: unknown, status: number): boolean => error instanceof ApiError && error.httpStatus === status;
const asObject = (value: unknown): KubeObject => value as KubeObject;

/** Renew (or create) this member's Lease. */
export async function renewMemberLease(input: PassInput): Promise<void> {
  const name = memberLeaseName(input.self.member);
  const renew = (previous: Lease | null): Lease => renewedMemberLease(input.self, { now: input.wallClock(), leaseDurationSeconds: input.leaseDurationSeconds, previous });
  try {
    await input.objects.guaranteedUpdate(resources.leases, memberLeaseNamespace, name, (current) => asObject(renew(current as unknown as Lease)), {});
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    try {
      await input.objects.create(resources.leases, memberLeaseNamespace, asObject(renew(null)));
    } catch (created) {
      // Another pass of ours (a stop racing a renewal) created it first: renewed either way.
      if (!isStatus(created, 409)) throw created;
    }
  }
}

export async function listMemberLeases(input: Pick<PassInput, 'objects' | 'membersMax'>): Promise<Lease[]> {
  const listed = await input.objects.list(resources.leases, memberLeaseNamespace, { labelSelector: `${memberLeaseLabel}=${memberLeaseLabelValue}`, limit: input.membersMax });
  return listed.items as unknown as Lease[];
}

/** Create the Service if absent (with its reserved ClusterIP), or put back the parts the reconciler owns. */
export async function ensureKubernetesService(input: PassInput): Promise<number> {
  let current: Service;
  try {
    current = await input.objects.get(resources.services, kubernetesServiceNamespace, kubernetesServiceName) as unknown as Service;
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    try {
      await input.objects.create(resources.services, kubernetesServiceNamespace, asObject(desiredKubernetesService(input.clusterIp, input.self.port)));
      return 1;
    } catch (created) {
      if (isStatus(created, 409)) return 0;
      throw created;
    }
  }
  const repaired = repairedKubernetesService(current, input.self.port);
  if (repaired === null) return 0;
  await input.objects.update(resources.services, kubernetesServiceNamespace, kubernetesServiceName, asObject(repaired), {});
  return 1;
}

export async function ensureKubernetesEndpoints(input: PassInput, live: readonly MemberEndpoint[]): Promise<number> {
  const desired = desiredKubernetesEndpoints(live);
  let current: Endpoints;
  try {
    current = await input.objects.get(resources.endpoints, kubernetesServiceNamespace, kubernetesServiceName) as unknown as Endpoints;
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    await input.objects.create(resources.endpoints, kubernetesServiceNamespace, asObject(desired));
    return 1;
  }
  if (endpointsContent(current) === endpointsContent(desired)) return 0;
  const next: Endpoints = { ...current, metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...desired.metadata?.labels } }, subsets: desired.subsets ?? [] };
  await input.objects.update(resources.endpoints, kubernetesServiceNamespace, kubernetesServiceName, asObject(next), {});
  return 1;
}

export async function ensureKubernetesSlices(input: PassInput, live: readonly MemberEndpoint[]): Promise<number> {
  const listed = await input.objects.list(resources.endpointslices, kubernetesServiceNamespace, {
    labelSelector: `${serviceNameLabel}=${kubernetesServiceName},${managedByLabel}=${reconcilerManagedBy}`,
  });
  const plan = planKubernetesSlices(listed.items as unknown as EndpointSlice[], desiredKubernetesSlices(live));
  // Each slice is its own object: written at once (a handful at most, one per member port).
  await Promise.all([
    ...plan.create.map((slice) => input.objects.create(resources.endpointslices, kubernetesServiceNamespace, asObject(slice))),
    ...plan.update.map((slice) => input.objects.update(resources.endpointslices, kubernetesServiceNamespace, slice.metadata?.name ?? '', asObject(slice), {})),
    ...plan.delete.map(async (slice) => {
      try {
        await input.objects.delete(resources.endpointslices, kubernetesServiceNamespace, slice.metadata?.name ?? '', { preconditions: { uid: slice.metadata?.uid ?? '' } });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    }),
  ]);
  return plan.create.length + plan.update.length + plan.delete.length;
}

/** Renew, read the Leases, reconcile. Throws on the first failed read or write (the next pass retries). */
export async function reconcilePass(input: PassInput, sightings: ReadonlyMap<string, Sighting>): Promise<PassResult> {
  await renewMemberLease(input);
  const leases = await listMemberLeases(input);
  const seen = liveMembers(leases, { self: input.self, sightings, nowMs: input.nowMs(), wallNowMs: input.wallClock().getTime(), firstSightingSkewMs: input.firstSightingSkewMs });
  // Three independent objects: written at once, so a pass costs one round of store writes, not three.
  const writes = await Promise.all([ensureKubernetesService(input), ensureKubernetesEndpoints(input, seen.live), ensureKubernetesSlices(input, seen.live)]);
  return { live: seen.live, sightings: seen.sightings, writes: writes.reduce((sum, n) => sum + n, 0) };
}

/**
 * A clean stop (kube-apiserver's RemoveEndpoints): drop this member's Lease and its endpoint now,
 * rather than leaving clients to hit a closed port until the Lease expires.
 */
export async function leavePass(input: PassInput, sightings: ReadonlyMap<string, Sighting>): Promise<void> {
  try {
    await input.objects.delete(resources.leases, memberLeaseNamespace, memberLeaseName(input.self.member), {});
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
  const leases = await listMemberLeases(input);
  const seen = liveMembers(leases, { self: input.self, sightings, nowMs: input.nowMs(), wallNowMs: input.wallClock().getTime(), firstSightingSkewMs: input.firstSightingSkewMs });
  const others = seen.live.filter((endpoint) => endpoint.member !== input.self.member);
  // At once: a stopping member has little time (kubernetesServiceLimits.stopTimeoutMs).
  await Promise.all([ensureKubernetesEndpoints(input, others), ensureKubernetesSlices(input, others)]);
}
