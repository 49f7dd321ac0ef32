/**
 * The `endpoints.kubernetes.io/last-change-trigger-time` annotation: when the change an Endpoints
 * (or EndpointSlice) write publishes first happened, so latency from a pod becoming ready to its
 * address being published can be measured, as Kubernetes' TriggerTimeTracker does.
 *
 * Decision: a pod's trigger time is its Ready condition's lastTransitionTime (its creation time
 * when it has none yet), the Service's its creation time; the annotation is the earliest trigger
 * time among the pods (and the Service) that changed since the last sync. Times come from the
 * objects, never from the clock, so the function is pure and a simulation replays it.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';

export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';

/** What the tracker remembers of one Service between syncs: each pod's endpoint-relevant state (trigger time, IP, readiness, deletion) by name. */
export interface TriggerState {
  readonly serviceSeen: boolean;
  readonly pods: ReadonlyMap<string, string>;
}

/** A pod counts as changed when any of what its endpoint shows changed, even within its trigger time's second. */
function podState(pod: Pick<Pod, 'status' | 'metadata'>, time: string): string {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([time, pod.status?.podIP ?? '', ready, pod.metadata?.deletionTimestamp ?? '']);
}

export function podTriggerTime(pod: Pick<Pod, 'status' | 'metadata'>): string | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.lastTransitionTime ?? pod.metadata?.creationTimestamp;
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) < Date.parse(a) ? b : a;
}

/** The annotation value for this sync (undefined when nothing dated changed) and the state to keep once it is written. */
export function computeTriggerTime(previous: TriggerState | undefined, service: Pick<Service, 'metadata'>, pods: readonly Pick<Pod, 'status' | 'metadata'>[]): { readonly triggerTime: string | undefined; readonly state: TriggerState } {
  let triggerTime: string | undefined = previous?.serviceSeen === true ? undefined : service.metadata?.creationTimestamp;
  const state = new Map<string, string>();
  for (const pod of pods) {
    const time = podTriggerTime(pod);
    const name = pod.metadata?.name ?? '';
    if (time === undefined) continue;
    const current = podState(pod, time);
    state.set(name, current);
    if (previous?.pods.get(name) !== current) triggerTime = earliest(triggerTime, time);
  }
  return { triggerTime, state: { serviceSeen: true, pods: state } };
}

/** The per-Service state between syncs, bounded: past `capacity` the least recently synced Service is forgotten. */
export class TriggerTimeTracker {
  private readonly states = new Map<string, TriggerState>();
  constructor(private readonly capacity: number) {}
  get(key: string): TriggerState | undefined {
    return this.states.get(key);
  }
  set(key: string, state: TriggerState): void {
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value as string);
  }
  forget(key: string): void {
    this.states.delete(key);
  }
}
