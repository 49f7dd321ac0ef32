/**
 * What a leader-election candidate does with the Lease it just read: pure, so the rules are tested
 * without an API or a clock.
 *
 * Decision: expiry is judged as client-go judges it, on the local monotonic clock only: a Lease is
 * expired when its record has been seen unchanged for its leaseDurationSeconds since this process
 * first saw that record. Timestamps written by another machine are never compared with ours.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';

/** The record as last seen, and when (local monotonic ms) it was first seen so. */
export interface LeaseObservation {
  readonly record: string;
  readonly atMs: number;
  /** The Lease's resourceVersion then: orders two sightings (a watch event and a try's read) of different records. */
  readonly resourceVersion: string;
  readonly leaseDurationMs: number;
}

/**
 * Of two sightings, the one to count expiry from: the later record (by resourceVersion), or for
 * the same record the earlier sighting. A try's read can be older than what the watch delivered
 * meanwhile; taking it would restart the count from a record already superseded.
 */
export function newerObservation(a: LeaseObservation | null, b: LeaseObservation | null): LeaseObservation | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.record === b.record) return a.atMs <= b.atMs ? a : b;
  const ra = Number(a.resourceVersion);
  const rb = Number(b.resourceVersion);
  if (Number.isFinite(ra) && Number.isFinite(rb) && ra !== rb) return ra > rb ? a : b;
  return a.atMs >= b.atMs ? a : b;
}

export type LeaseDecision =
  | { readonly kind: 'create' }
  /** Take the Lease: it is released (no holder) or expired. */
  | { readonly kind: 'acquire' }
  /** It is ours: write a new renewTime. */
  | { readonly kind: 'renew' }
  /** Another holds it; it expires at `expiresAtMs` (local) unless renewed before. */
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresAtMs: number };

export function leaseRecord(lease: Lease): string {
  const spec = lease.spec ?? {};
  return JSON.stringify([spec.holderIdentity ?? '', spec.leaseDurationSeconds ?? 0, spec.acquireTime ?? '', spec.renewTime ?? '', spec.leaseTransitions ?? 0]);
}

export function decideLease(
  lease: Lease | null,
  input: { readonly identity: string; readonly nowMs: number; readonly observed: LeaseObservation | null },
): { readonly decision: LeaseDecision; readonly observed: LeaseObservation | null } {
  if (lease === null) return { decision: { kind: 'create' }, observed: null };
  const record = leaseRecord(lease);
  const seen: LeaseObservation = {
    record, atMs: input.nowMs, resourceVersion: lease.metadata?.resourceVersion ?? '', leaseDurationMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
  };
  const observed = newerObservation(input.observed, seen) as LeaseObservation;
  // A read older than what was already seen decides nothing: wait for the newer record's expiry.
  const current = observed.record === record ? lease : null;
  const holder = current === null ? holderOf(observed.record) : current.spec?.holderIdentity ?? '';
  if (current !== null && holder === input.identity) return { decision: { kind: 'renew' }, observed };
  if (current !== null && holder === '') return { decision: { kind: 'acquire' }, observed };
  const expiresAtMs = observed.atMs + observed.leaseDurationMs;
  if (current !== null && input.nowMs >= expiresAtMs) return { decision: { kind: 'acquire' }, observed };
  return { decision: { kind: 'wait', holder, expiresAtMs }, observed };
}

function holderOf(record: string): string {
  const parsed = JSON.parse(record) as unknown[];
  return typeof parsed[0] === 'string' ? parsed[0] : '';
}

/** A MicroTime (`2006-01-02T15:04:05.000000Z`), the format of Lease times. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease after this candidate takes it or renews it. */
export function leaseSpecFor(
  decision: 'create' | 'acquire' | 'renew',
  previous: Lease | null,
  input: { readonly identity: string; readonly leaseDurationSeconds: number; readonly now: Date },
): NonNullable<Lease['spec']> {
  const now = microTime(input.now);
  const spec = previous?.spec ?? {};
  if (decision === 'renew') return { ...spec, holderIdentity: input.identity, leaseDurationSeconds: input.leaseDurationSeconds, renewTime: now };
  return {
    holderIdentity: input.identity,
    leaseDurationSeconds: input.leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: decision === 'create' ? 0 : (spec.leaseTransitions ?? 0) + 1,
  };
}
