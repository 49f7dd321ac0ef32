/**
 * Which members are alive, from their Leases (`kube-system/kube-apiserver-<member id>`): pure, so
 * the rule is tested without a store or a clock.
 *
 * Decision: as client-go's leader election judges a Lease, expiry is counted on this member's
 * monotonic clock from the moment it first saw a record, never by comparing another host's
 * renewTime with our wall clock. Only a Lease seen for the first time (this member just started)
 * is checked against the wall clock, with a generous skew allowance, so that a member dead for
 * hours does not re-enter the endpoints for one lease duration each time another member starts.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';

/** Labels every member Lease, so one list finds them all (kube-apiserver's identity Leases carry the same). */
export const memberLeaseLabel = 'apiserver.kubernetes.io/identity';
export const memberLeaseLabelValue = 'kube-apiserver';
export const memberLeaseNamespace = 'kube-system';
/** Where a Lease says how to reach its member's API: an IP and a port (labels cannot hold ':'). */
export const advertiseAddressAnnotation = 'kubus.io/advertise-address';
export const advertisePortAnnotation = 'kubus.io/advertise-port';

export interface MemberEndpoint {
  readonly member: string;
  readonly address: string;
  readonly port: number;
}

/** A record as this member last saw it, and when (local monotonic ms) it first saw it so. */
export interface Sighting {
  readonly record: string;
  readonly atMs: number;
}

export function memberLeaseName(member: string): string {
  return `kube-apiserver-${member}`;
}

/** A MicroTime (`2006-01-02T15:04:05.000000Z`), the format of Lease times. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** This member's Lease after a renewal: `previous` keeps its metadata (resourceVersion guards the write). */
export function renewedMemberLease(self: MemberEndpoint, options: { readonly now: Date; readonly leaseDurationSeconds: number; readonly previous: Lease | null }): Lease {
  const previous = options.previous;
  const now = microTime(options.now);
  return {
    ...(previous ?? {}),
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(previous?.metadata ?? {}),
      name: memberLeaseName(self.member),
      namespace: memberLeaseNamespace,
      labels: { ...(previous?.metadata?.labels ?? {}), [memberLeaseLabel]: memberLeaseLabelValue },
      annotations: { ...(previous?.metadata?.annotations ?? {}), [advertiseAddressAnnotation]: self.address, [advertisePortAnnotation]: String(self.port) },
    },
    spec: {
      holderIdentity: self.member,
      leaseDurationSeconds: options.leaseDurationSeconds,
      acquireTime: previous?.spec?.acquireTime ?? now,
      renewTime: now,
    },
  };
}

/** The member and endpoint a Lease names, or null for a Lease that is not a well-formed member Lease. */
export function endpointOfLease(lease: Lease): MemberEndpoint | null {
  const member = lease.spec?.holderIdentity ?? '';
  const address = lease.metadata?.annotations?.[advertiseAddressAnnotation] ?? '';
  const port = Number(lease.metadata?.annotations?.[advertisePortAnnotation]);
  if (member === '' || address === '' || !Number.isInteger(port) || port < 1 || port > 65_535) return null;
  if (lease.metadata?.name !== memberLeaseName(member)) return null;
  return { member, address, port };
}

function recordOf(lease: Lease): string {
  return JSON.stringify([lease.metadata?.resourceVersion ?? '', lease.spec?.renewTime ?? '', lease.spec?.holderIdentity ?? '']);
}

/**
 * The live members among `leases`, and the sightings to keep for the next pass (only of Leases
 * that still exist). `self` is always live: this member is running and just renewed (or is
 * unable to write anything anyway).
 */
export function liveMembers(
  leases: readonly Lease[],
  input: {
    readonly self: MemberEndpoint;
    readonly sightings: ReadonlyMap<string, Sighting>;
    readonly nowMs: number;
    readonly wallNowMs: number;
    readonly firstSightingSkewMs: number;
  },
): { readonly live: MemberEndpoint[]; readonly sightings: Map<string, Sighting> } {
  const sightings = new Map<string, Sighting>();
  const byMember = new Map<string, MemberEndpoint>([[input.self.member, input.self]]);
  for (const lease of leases) {
    const endpoint = endpointOfLease(lease);
    if (endpoint === null || endpoint.member === input.self.member) continue;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const record = recordOf(lease);
    const before = input.sightings.get(endpoint.member);
    const sighting = before !== undefined && before.record === record ? before : { record, atMs: input.nowMs };
    sightings.set(endpoint.member, sighting);
    if (input.nowMs - sighting.atMs >= durationMs) continue;
    if (before === undefined && !freshByWallClock(lease, durationMs, input)) continue;
    byMember.set(endpoint.member, endpoint);
  }
  return { live: [...byMember.values()].sort(compareEndpoints), sightings };
}

function freshByWallClock(lease: Lease, durationMs: number, input: { readonly wallNowMs: number; readonly firstSightingSkewMs: number }): boolean {
  const renewed = Date.parse(String(lease.spec?.renewTime ?? ''));
  if (Number.isNaN(renewed)) return false;
  return input.wallNowMs - renewed < durationMs + input.firstSightingSkewMs;
}

export function compareEndpoints(a: MemberEndpoint, b: MemberEndpoint): number {
  return a.port - b.port || a.address.localeCompare(b.address) || a.member.localeCompare(b.member);
}
