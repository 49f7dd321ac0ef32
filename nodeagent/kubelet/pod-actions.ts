/**
 * What a pod worker does next, pure (the kubelet's computePodActions): from the container records
 * and the monotonic time, which container to start or kill, whether the pod failed for good, and
 * when to look again (a CrashLoopBackOff running out). The worker performs the plan.
 *
 * Init containers run one at a time in order, each to success; only then the containers start.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { initSucceeded, isExited, isRunning, type ContainerRecord } from './container-record.js';
import { nextRestartDelayMs, restartPolicyOf, shouldRestart, shouldRestartInit } from './restart-backoff.js';

export type PodAction =
  | { readonly kind: 'start'; readonly name: string; readonly init: boolean }
  | { readonly kind: 'kill'; readonly name: string; readonly reason: string };

export interface PodPlan {
  readonly actions: readonly PodAction[];
  /** Monotonic time a held-back container may start (null: nothing waits on time). */
  readonly wakeAtMonotonicMs: number | null;
}

function exitCode(record: ContainerRecord): number {
  return record.current?.exitCode ?? 0;
}

/** Start `record` now, or say when it may start. */
function startOrWait(record: ContainerRecord, nowMs: number, actions: PodAction[]): number | null {
  const at = record.restartAtMonotonicMs;
  if (at !== null && at > nowMs) return at;
  actions.push({ kind: 'start', name: record.name, init: record.init });
  return null;
}

export function computePodActions(pod: Pod, records: readonly ContainerRecord[], nowMs: number): PodPlan {
  const policy = restartPolicyOf(pod.spec);
  const actions: PodAction[] = [];
  let wake: number | null = null;
  const earliest = (at: number | null): void => {
    if (at !== null && (wake === null || at < wake)) wake = at;
  };
  for (const record of records) {
    if (record.killRequested !== null && isRunning(record.current)) actions.push({ kind: 'kill', name: record.name, reason: record.killRequested });
  }
  for (const record of records.filter((r) => r.init)) {
    if (initSucceeded(record)) continue;
    if (record.current === null || record.current.state === 'created') earliest(startOrWait(record, nowMs, actions));
    else if (isExited(record.current) && shouldRestartInit(policy, exitCode(record))) earliest(startOrWait(record, nowMs, actions));
    return { actions, wakeAtMonotonicMs: wake };
  }
  for (const record of records.filter((r) => !r.init)) {
    if (record.current === null || record.current.state === 'created') earliest(startOrWait(record, nowMs, actions));
    else if (isExited(record.current) && shouldRestart(policy, exitCode(record))) earliest(startOrWait(record, nowMs, actions));
  }
  return { actions, wakeAtMonotonicMs: wake };
}

/**
 * The worker saw `record`'s current instance exit: schedule its restart (CrashLoopBackOff) when
 * the policy restarts it, and say so in its waiting state. Mutates the record (the worker's own).
 */
export function noteExit(pod: Pod, record: ContainerRecord, nowMs: number): void {
  const policy = restartPolicyOf(pod.spec);
  const code = exitCode(record);
  record.ready = false;
  record.started = false;
  record.killRequested = null;
  const restarts = record.init ? shouldRestartInit(policy, code) : shouldRestart(policy, code);
  if (!restarts) {
    record.restartAtMonotonicMs = null;
    record.waiting = null;
    return;
  }
  const ranForMs = record.startedAtMonotonicMs === null ? 0 : nowMs - record.startedAtMonotonicMs;
  const delayMs = nextRestartDelayMs(record.backoffDelayMs, ranForMs);
  record.backoffDelayMs = delayMs;
  record.restartAtMonotonicMs = nowMs + delayMs;
  record.waiting = delayMs === 0 ? null : {
    reason: 'CrashLoopBackOff',
    message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${record.name} pod=${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`,
  };
}
