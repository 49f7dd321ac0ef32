/**
 * Status conditions (`type`, `status`, `reason`, `message`, `lastTransitionTime`) as every
 * controller sets them: the transition time moves only when `status` changes, so watchers and
 * `kubectl describe` show when a condition really flipped, not when it was last re-asserted.
 */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string | undefined;
  message?: string | undefined;
  lastTransitionTime?: string | undefined;
  lastUpdateTime?: string | undefined;
  lastHeartbeatTime?: string | undefined;
  lastProbeTime?: string | null | undefined;
  observedGeneration?: number | undefined;
}

export function getCondition<C extends { readonly type: string }>(conditions: readonly C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Is the condition present with status True? */
export function isConditionTrue(conditions: readonly { readonly type: string; readonly status: string }[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * The conditions with `next` set: a new list (inputs are not mutated). `lastTransitionTime` is kept
 * when the status did not change, set to `now` when it did or when the condition is new.
 */
export function setCondition<C extends Condition>(conditions: readonly C[] | undefined, next: C, now: string): C[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index < 0 ? undefined : list[index];
  const transition = previous !== undefined && previous.status === next.status ? previous.lastTransitionTime ?? now : now;
  const merged = { ...next, lastTransitionTime: next.lastTransitionTime ?? transition } as C;
  if (index < 0) list.push(merged);
  else list[index] = merged;
  return list;
}

/** The conditions without `type`. */
export function removeCondition<C extends { readonly type: string }>(conditions: readonly C[] | undefined, type: string): C[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
