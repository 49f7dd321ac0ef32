/**
 * The taints the node lifecycle controller owns, pure: NoSchedule taints that mirror the Node's
 * conditions (Kubernetes' `doNoScheduleTaintingPass`), and the NoExecute `unreachable` /
 * `not-ready` taint that starts evictions (set through the zone's rate limiter, swapped at once
 * between the two, removed when the Node is Ready again). Taints of any other key or effect are
 * left exactly as they are.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';
import { nodeTaints } from '../../objects/index.js';
import type { NodeObject } from './object-types.js';

/** Condition type → status → the NoSchedule taint key it implies (Kubernetes' nodeConditionToTaintKeyStatusMap). */
const conditionTaints: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: nodeTaints.notReady, Unknown: nodeTaints.unreachable },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};

const managedNoScheduleKeys: ReadonlySet<string> = new Set([...Object.values(conditionTaints).flatMap((m) => Object.values(m)), nodeTaints.unschedulable]);

/** The NoSchedule taints the Node's conditions and `spec.unschedulable` call for. */
export function desiredNoScheduleTaints(node: Pick<NodeObject, 'spec' | 'status'>): Taint[] {
  const taints: Taint[] = [];
  for (const condition of node.status?.conditions ?? []) {
    const key = conditionTaints[condition.type]?.[condition.status];
    if (key !== undefined && !taints.some((t) => t.key === key)) taints.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) taints.push({ key: nodeTaints.unschedulable, effect: 'NoSchedule' });
  return taints;
}

export type NoExecuteTaint = 'unreachable' | 'notReady';

const noExecuteKey: Readonly<Record<NoExecuteTaint, string>> = { unreachable: nodeTaints.unreachable, notReady: nodeTaints.notReady };

export function hasNoExecuteTaint(taints: readonly Taint[] | undefined, which: NoExecuteTaint): boolean {
  return (taints ?? []).some((t) => t.key === noExecuteKey[which] && t.effect === 'NoExecute');
}

/** What to do with the NoExecute taint: leave it, remove it, or make it (only) this one. */
export type NoExecuteChange = 'keep' | 'remove' | NoExecuteTaint;

/**
 * Where the Node's NoExecute taint is heading (Kubernetes' `processTaintBaseEviction`): Ready
 * True removes it; Ready False/Unknown swaps at once if the Node carries the other one, and
 * otherwise asks for it through the zone's rate limiter (`enqueue`).
 */
export function noExecuteIntent(ready: 'True' | 'False' | 'Unknown' | undefined, taints: readonly Taint[] | undefined): NoExecuteChange | 'enqueue' {
  if (ready === undefined) return 'keep';
  if (ready === 'True') return 'remove';
  const want: NoExecuteTaint = ready === 'False' ? 'notReady' : 'unreachable';
  const other: NoExecuteTaint = want === 'notReady' ? 'unreachable' : 'notReady';
  if (hasNoExecuteTaint(taints, other)) return want;
  return hasNoExecuteTaint(taints, want) ? 'keep' : 'enqueue';
}

/**
 * The Node's taints with the managed NoSchedule taints set to `noSchedule` and the NoExecute
 * change applied; a taint already present keeps its `timeAdded`. Undefined when nothing changes,
 * so the caller writes only when it must.
 */
export function nextTaints(current: readonly Taint[] | undefined, change: { readonly noSchedule: readonly Taint[]; readonly noExecute: NoExecuteChange; readonly nowIso: string }): Taint[] | undefined {
  const before = [...(current ?? [])];
  const managedNoExecute = new Set(Object.values(noExecuteKey));
  const kept = before.filter((t) => {
    if (t.effect === 'NoSchedule' && managedNoScheduleKeys.has(t.key)) return change.noSchedule.some((d) => d.key === t.key);
    if (t.effect === 'NoExecute' && managedNoExecute.has(t.key)) {
      if (change.noExecute === 'keep') return true;
      if (change.noExecute === 'remove') return false;
      return t.key === noExecuteKey[change.noExecute];
    }
    return true;
  });
  for (const taint of change.noSchedule) {
    if (!kept.some((t) => t.key === taint.key && t.effect === 'NoSchedule')) kept.push({ key: taint.key, effect: 'NoSchedule' });
  }
  if (change.noExecute === 'unreachable' || change.noExecute === 'notReady') {
    const key = noExecuteKey[change.noExecute];
    if (!kept.some((t) => t.key === key && t.effect === 'NoExecute')) kept.push({ key, effect: 'NoExecute', timeAdded: change.nowIso });
  }
  const same = kept.length === before.length && kept.every((t) => before.some((b) => b.key === t.key && b.effect === t.effect && b.value === t.value));
  return same ? undefined : kept;
}
