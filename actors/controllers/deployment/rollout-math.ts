/**
 * The arithmetic of a rollout, as Kubernetes' deployment util: maxSurge / maxUnavailable from
 * int-or-percent (surge rounds up, unavailable down, never both zero), how far the new ReplicaSet
 * may grow, how far the old ones may shrink, and proportional scaling of a mid-rollout Deployment.
 * Every function is pure: ReplicaSets in, target sizes out.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
/** An int-or-string field (Kubernetes' intstr.IntOrString) as kubernetes-types spells it. */
type IntOrString = number | string;

export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';

export class IntOrPercentError extends Error {
  readonly code = 'intOrPercent';
  constructor(readonly value: unknown) {
    super(`invalid int-or-percent value ${JSON.stringify(value)}`);
  }
}

/** Kubernetes' GetScaledValueFromIntOrPercent: an int as is, `N%` of `total` rounded up or down. */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (match === null) {
    if (/^\d+$/.test(value)) return Number(value);
    throw new IntOrPercentError(value);
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

const replicasOf = (d: Deployment): number => d.spec?.replicas ?? 1;
const sizeOf = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** Kubernetes' ResolveFenceposts: surge rounded up, unavailable down; both zero makes unavailable 1. */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { readonly surge: number; readonly unavailable: number } {
  const surge = scaledValue(maxSurge ?? '25%', desired, true);
  const unavailable = scaledValue(maxUnavailable ?? '25%', desired, false);
  return surge === 0 && unavailable === 0 ? { surge, unavailable: 1 } : { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, replicasOf(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(rolling?.maxSurge, rolling?.maxUnavailable, replicasOf(d));
  return Math.min(unavailable, replicasOf(d));
}

export const totalReplicas = (sets: readonly (ReplicaSet | undefined)[]): number => sets.reduce((sum, rs) => sum + sizeOf(rs), 0);
/**
 * Available pods, each ReplicaSet's count capped at its spec.replicas: a status not yet caught up
 * with a scale-down still counts pods about to be deleted, and a rolling step must not lean on them.
 * (A deviation from Kubernetes, which reads status.availableReplicas as is and so can overshoot
 * maxUnavailable for a moment when its ReplicaSet informer lags.)
 */
export const totalAvailable = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((sum, rs) => sum + Math.min(rs?.status?.availableReplicas ?? 0, sizeOf(rs)), 0);
export const activeReplicaSets = (sets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] => sets.filter((rs): rs is ReplicaSet => rs !== undefined && sizeOf(rs) > 0);

function createdMs(rs: ReplicaSet): number {
  return Date.parse(rs.metadata?.creationTimestamp ?? '') || 0;
}

/** Oldest first, then by name (Kubernetes' ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return createdMs(a) - createdMs(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/**
 * Kubernetes' NewRSNewReplicas: the new ReplicaSet's size for this step. `activePods` (pods seen per
 * ReplicaSet name) makes the surge bound hold for pods, not only for specs: a ReplicaSet just scaled
 * down counts its pods until their deletion is seen, so the new one never grows before they are gone.
 */
export function newReplicaSetSize(d: Deployment, allSets: readonly (ReplicaSet | undefined)[], newRs: ReplicaSet | undefined, activePods?: ReadonlyMap<string, number>): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = allSets.reduce((sum, rs) => sum + Math.max(sizeOf(rs), activePods?.get(rs?.metadata?.name ?? '') ?? 0), 0);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return sizeOf(newRs);
  const scaleUp = Math.min(maxTotal - current, replicasOf(d) - sizeOf(newRs));
  return sizeOf(newRs) + scaleUp;
}

export interface ScaleTarget {
  readonly name: string;
  readonly replicas: number;
}

/**
 * Kubernetes' reconcileOldReplicaSets for one rolling step: first old pods that are not available
 * go (they cost no availability), then available ones while available pods stay above
 * replicas - maxUnavailable. Sizes are spec.replicas; availability is the ReplicaSets' status.
 */
export function oldReplicaSetsScaleDown(d: Deployment, oldSets: readonly ReplicaSet[], newRs: ReplicaSet | undefined): ScaleTarget[] {
  const sizes = new Map(oldSets.map((rs) => [rs.metadata?.name ?? '', sizeOf(rs)]));
  const oldCount = totalReplicas(oldSets);
  if (oldCount === 0) return [];
  const allCount = oldCount + sizeOf(newRs);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = sizeOf(newRs) - (newRs?.status?.availableReplicas ?? 0);
  const maxScaledDown = allCount - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const ordered = [...oldSets].sort(byCreation);
  let cleaned = 0;
  for (const rs of ordered) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.get(rs.metadata?.name ?? '') ?? 0;
    const available = rs.status?.availableReplicas ?? 0;
    // size <= available: nothing unhealthy (or a status that lags a scale-down: not ours to correct).
    if (size === 0 || size <= available) continue;
    const down = Math.min(maxScaledDown - cleaned, size - available);
    sizes.set(rs.metadata?.name ?? '', size - down);
    cleaned += down;
  }
  const availableCount = totalAvailable([...oldSets, newRs]);
  let toScaleDown = availableCount - minAvailable;
  for (const rs of ordered) {
    if (toScaleDown <= 0) break;
    const size = sizes.get(rs.metadata?.name ?? '') ?? 0;
    if (size === 0) continue;
    const down = Math.min(size, toScaleDown);
    sizes.set(rs.metadata?.name ?? '', size - down);
    toScaleDown -= down;
  }
  return ordered.filter((rs) => sizes.get(rs.metadata?.name ?? '') !== sizeOf(rs))
    .map((rs) => ({ name: rs.metadata?.name ?? '', replicas: sizes.get(rs.metadata?.name ?? '') ?? 0 }));
}

/** Kubernetes' FindActiveOrLatest: the one active ReplicaSet, or the newest when none is active; undefined when several are. */
export function activeOrLatest(newRs: ReplicaSet | undefined, oldSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  const newestFirst = [...oldSets].sort(byCreation).reverse();
  const active = activeReplicaSets([...newestFirst, newRs]);
  if (active.length === 1) return active[0];
  if (active.length > 1) return undefined;
  return newRs ?? newestFirst[0];
}

function annotationNumber(rs: ReplicaSet, name: string): number | undefined {
  const raw = rs.metadata?.annotations?.[name];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

export const desiredReplicasOf = (rs: ReplicaSet): number | undefined => annotationNumber(rs, desiredReplicasAnnotation);

/** Kubernetes' IsSaturated: the new ReplicaSet has all the replicas, all available. */
export function isSaturated(d: Deployment, newRs: ReplicaSet | undefined): boolean {
  if (newRs === undefined) return false;
  return sizeOf(newRs) === replicasOf(d) && desiredReplicasOf(newRs) === replicasOf(d) && (newRs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/** A scaling event: some active ReplicaSet was sized for another spec.replicas (its desired-replicas annotation). */
export function isScalingEvent(d: Deployment, sets: readonly (ReplicaSet | undefined)[]): boolean {
  return activeReplicaSets(sets).some((rs) => {
    const desired = desiredReplicasOf(rs);
    return desired !== undefined && desired !== replicasOf(d);
  });
}

/** Kubernetes' getReplicaSetFraction: this ReplicaSet's share of a resize, from its max-replicas annotation. */
function fraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -sizeOf(rs);
  const maxNow = replicasOf(d) + maxSurge(d);
  let maxBefore = annotationNumber(rs, maxReplicasAnnotation);
  if (maxBefore === undefined || maxBefore === 0) maxBefore = d.status?.replicas ?? 0;
  if (maxBefore === 0) return 0;
  return Math.round((sizeOf(rs) * maxNow) / maxBefore) - sizeOf(rs);
}

/**
 * Kubernetes' scale(): the sizes of every ReplicaSet after a spec.replicas change. One active (or
 * none): it takes all. A saturated new ReplicaSet: old ones go to zero. Mid-rollout: the change is
 * shared in proportion, largest first (newer first when scaling up, older first when down), the
 * rounding leftover to the first.
 */
export function scaleTargets(d: Deployment, newRs: ReplicaSet | undefined, oldSets: readonly ReplicaSet[]): ScaleTarget[] {
  const single = activeOrLatest(newRs, oldSets);
  if (single !== undefined || (newRs === undefined && oldSets.length === 0)) {
    return single === undefined || sizeOf(single) === replicasOf(d) ? [] : [{ name: single.metadata?.name ?? '', replicas: replicasOf(d) }];
  }
  if (isSaturated(d, newRs)) return activeReplicaSets(oldSets).map((rs) => ({ name: rs.metadata?.name ?? '', replicas: 0 }));
  if (!isRollingUpdate(d)) return [];
  const active = activeReplicaSets([...oldSets, newRs]);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - totalReplicas(active);
  if (toAdd === 0) return [];
  const newerFirst = (a: ReplicaSet, b: ReplicaSet): number => sizeOf(b) - sizeOf(a) || byCreation(b, a);
  const olderFirst = (a: ReplicaSet, b: ReplicaSet): number => sizeOf(b) - sizeOf(a) || byCreation(a, b);
  const ordered = [...active].sort(toAdd > 0 ? newerFirst : olderFirst);
  let added = 0;
  const sizes = ordered.map((rs) => {
    if (sizeOf(rs) === 0 || added === toAdd) return sizeOf(rs);
    const allowedNow = toAdd - added;
    const share = toAdd > 0 ? Math.min(fraction(rs, d), allowedNow) : Math.max(fraction(rs, d), allowedNow);
    added += share;
    return sizeOf(rs) + share;
  });
  sizes[0] = Math.max(0, (sizes[0] ?? 0) + toAdd - added);
  return ordered.map((rs, i) => ({ name: rs.metadata?.name ?? '', replicas: sizes[i] ?? 0 }));
}
