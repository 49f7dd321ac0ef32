/**
 * The agent's pod metrics (issue 13): pod start latency (first seen → Running, first seen → Ready)
 * and its pods by phase. Fed from two places the composition root already has: the assignment
 * updates (when the agent first sees a pod) and the status sink (what the kubelet reports).
 *
 * Decision: "first seen" is the assignment update that brought the pod, as the kubelet's
 * kubelet_pod_start_duration_seconds starts when the kubelet first sees the pod; the status's own
 * `startTime` has one-second resolution, too coarse for a sub-second goal. A pod whose API status
 * already had a `startTime` when it arrived was started by an earlier run of this agent (restart,
 * adoption): it is not timed, so a restart adds no bogus samples.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../bus/clock.js';
import type { PodMetrics } from '../bus/telemetry/index.js';
import { telemetryLimits } from '../bus/telemetry/index.js';
import type { PodStatusSink } from './agent-context.js';
import type { AssignmentUpdate } from './assignment/protocol.js';

type PodStatus = NonNullable<Pod['status']>;

interface Tracked {
  /** Monotonic ms when first seen; null: not timed (started before, or first met through its status). */
  seenMs: number | null;
  phase: string | null;
  running: boolean;
  ready: boolean;
}

export interface PodTelemetry {
  /** Every assignment update, before the pod manager applies it. */
  assigned(update: AssignmentUpdate): void;
  /** The status sink the kubelet writes through, observed (every other member passes through). */
  observe<T extends PodStatusSink>(sink: T): T;
  /** Pods tracked now (tests). */
  trackedCount(): number;
}

const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

export function createPodTelemetry(deps: { readonly metrics: PodMetrics; readonly clock: Clock }): PodTelemetry {
  const { metrics, clock } = deps;
  const pods = new Map<string, Tracked>();
  // Every phase is exported from the start (0), so a dashboard sees the series before the first pod.
  for (const phase of phases) metrics.byPhase.set({ phase }, 0);

  const setPhase = (tracked: Tracked, phase: string | null): void => {
    if (tracked.phase === phase) return;
    if (tracked.phase !== null) metrics.byPhase.dec({ phase: tracked.phase });
    if (phase !== null) metrics.byPhase.inc({ phase });
    tracked.phase = phase;
  };
  const forget = (uid: string): void => {
    const tracked = pods.get(uid);
    if (tracked === undefined) return;
    setPhase(tracked, null);
    pods.delete(uid);
  };
  const track = (uid: string, seenMs: number | null): Tracked => {
    let tracked = pods.get(uid);
    if (tracked !== undefined) return tracked;
    // Bounded: the oldest entry (Map order) goes first; a node never runs this many pods.
    if (pods.size >= telemetryLimits.podsTrackedMax) {
      const oldest = pods.keys().next().value;
      if (oldest !== undefined) forget(oldest);
    }
    tracked = { seenMs, phase: null, running: false, ready: false };
    pods.set(uid, tracked);
    return tracked;
  };
  const seen = (pod: Pod): void => {
    const uid = pod.metadata?.uid;
    if (uid === undefined || pods.has(uid)) return;
    track(uid, pod.status?.startTime !== undefined ? null : clock.now());
  };
  const statusSet = (pod: Pod, status: PodStatus): void => {
    const uid = pod.metadata?.uid;
    if (uid === undefined) return;
    const tracked = track(uid, null);
    setPhase(tracked, status.phase ?? 'Unknown');
    const nowMs = clock.now();
    if (!tracked.running && status.phase === 'Running') {
      tracked.running = true;
      if (tracked.seenMs !== null) metrics.startDuration.observe((nowMs - tracked.seenMs) / 1000);
    }
    const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    if (!tracked.ready && ready) {
      tracked.ready = true;
      if (tracked.seenMs !== null) metrics.readyDuration.observe((nowMs - tracked.seenMs) / 1000);
    }
  };

  return {
    assigned(update) {
      switch (update.type) {
        case 'upsert':
          seen(update.pod);
          return;
        case 'delete':
          forget(update.uid);
          return;
        case 'sync': {
          const present = new Set<string>();
          for (const pod of update.pods) {
            seen(pod);
            if (pod.metadata?.uid !== undefined) present.add(pod.metadata.uid);
          }
          // A pod absent from a sync is no longer this node's.
          for (const uid of [...pods.keys()]) if (!present.has(uid)) forget(uid);
          return;
        }
      }
    },
    observe<T extends PodStatusSink>(sink: T): T {
      const set: PodStatusSink['set'] = (pod, status) => {
        statusSet(pod, status);
        sink.set(pod, status);
      };
      const confirmDeletion: PodStatusSink['confirmDeletion'] = (pod) => {
        if (pod.metadata?.uid !== undefined) forget(pod.metadata.uid);
        sink.confirmDeletion(pod);
      };
      return new Proxy(sink, {
        get(target, property) {
          if (property === 'set') return set;
          if (property === 'confirmDeletion') return confirmDeletion;
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
    trackedCount: () => pods.size,
  };
}
