/**
 * A pod worker's state and dependencies, shared by its machine (pod-worker.ts) and the runtime
 * work it invokes (pod-sync.ts, pod-termination.ts). The state is one mutable object owned by the
 * worker: only its own invoked actors and actions touch it, one at a time.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { EnvResolver, PodStatusSink, PodVolumes, Prober, ProbeTarget, VolumeManager } from '../agent-context.js';
import type { ContainerRuntime, PodSandboxStatus } from '../runtime/types.js';
import type { PodCheckpoint } from './checkpoint.js';
import type { PodDnsSettings } from '../dns/index.js';
import { newContainerRecord, type ContainerRecord } from './container-record.js';

export interface PodWorkerDeps {
  readonly agentDir: string;
  /** The node's cluster DNS and host resolver settings (dnsPolicy); absent: sandboxes get none. */
  readonly dns?: PodDnsSettings;
  readonly runtime: ContainerRuntime;
  readonly volumes: VolumeManager;
  readonly env: EnvResolver;
  readonly prober: Prober;
  readonly status: PodStatusSink;
  readonly nodeIp: string;
  readonly clock: Clock;
  readonly wallClock: () => Date;
  readonly logger: Logger;
  /** Something the checkpoint holds changed (sandbox, container ids, restart counts). */
  readonly onChange: () => void;
  /** A Secret's data for imagePullSecrets (absent: pulls go without credentials). */
  readonly secretData?: (namespace: string, name: string) => Promise<Readonly<Record<string, Buffer>> | null>;
  /** `--allow-privileged`: containers asking for privileged run (refused otherwise, CreateContainerConfigError). */
  readonly allowPrivileged?: boolean;
}

/** How a pod stops: a graceful deletion (then confirmed), the agent draining, or no longer assigned (at once). */
export type TerminationMode = 'deletion' | 'drain' | 'unassigned';

export interface WorkerState {
  pod: Pod;
  readonly uid: string;
  readonly records: ContainerRecord[];
  sandboxId: string | null;
  /** This worker made or adopted the sandbox already (a later prepare is a retry after a volume failure). */
  sandboxSetUp: boolean;
  sandboxAttempt: number;
  podIp: string | null;
  volumes: PodVolumes | null;
  /** Monotonic ms of the last volume refresh (setUp counts as one). */
  volumesRefreshedAtMs: number;
  readonly probes: Map<string, { stop(): void }>;
  /** Wall ms the agent first took the pod on (status.startTime when the pod has none yet). */
  readonly startTimeMs: number;
  /** The pod was already Succeeded or Failed when this worker began: nothing runs again. */
  finished: boolean;
  /** Monotonic ms at which a held-back container may start (the next sync wakes then at the latest). */
  wakeAtMonotonicMs: number | null;
  /** What the last reported status was computed from (pod object + records' fingerprint): an unchanged pass computes nothing. */
  reported: { readonly pod: Pod; readonly fingerprint: string } | null;
  /** A sandbox found running at start (adoption after an agent restart). */
  adoptSandbox: PodSandboxStatus | null;
}

export function allContainers(pod: Pod): { readonly container: Container; readonly init: boolean }[] {
  return [
    ...(pod.spec?.initContainers ?? []).map((container) => ({ container, init: true })),
    ...(pod.spec?.containers ?? []).map((container) => ({ container, init: false })),
  ];
}

export function specOf(state: WorkerState, name: string): Container | undefined {
  return allContainers(state.pod).find((c) => c.container.name === name)?.container;
}

export function newWorkerState(pod: Pod, options: { readonly startTimeMs: number; readonly restored?: PodCheckpoint | undefined; readonly adopt?: PodSandboxStatus | null }): WorkerState {
  const restored = options.restored;
  const records = allContainers(pod).map(({ container, init }) => {
    const saved = restored?.containers[container.name];
    const record = newContainerRecord(container.name, init, saved?.restartCount ?? 0);
    record.everStarted = saved?.id !== undefined && saved.id !== null;
    return record;
  });
  return {
    pod, uid: pod.metadata?.uid ?? '', records,
    sandboxId: restored?.sandboxId ?? null, sandboxSetUp: false, sandboxAttempt: 0, podIp: restored?.podIp ?? null, volumes: null, volumesRefreshedAtMs: 0,
    probes: new Map(), startTimeMs: options.startTimeMs,
    finished: pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed',
    wakeAtMonotonicMs: null, reported: null, adoptSandbox: options.adopt ?? null,
  };
}

export function probeTarget(state: WorkerState, container: Container, containerId: string, startedAtMs: number): ProbeTarget {
  return { pod: state.pod, podIp: state.podIp, container, containerId, startedAtMs };
}

/** The grace a deletion gives: the deletion's own, else the pod's, else Kubernetes' default 30 s. */
export function graceSecondsOf(pod: Pod, mode: TerminationMode, defaultSeconds: number): number {
  if (mode === 'unassigned') return 0;
  const fromDeletion = mode === 'deletion' ? pod.metadata?.deletionGracePeriodSeconds : undefined;
  return Math.max(0, fromDeletion ?? pod.spec?.terminationGracePeriodSeconds ?? defaultSeconds);
}

export function checkpointOf(state: WorkerState): PodCheckpoint {
  return {
    pod: state.pod,
    podIp: state.podIp,
    sandboxId: state.sandboxId,
    containers: Object.fromEntries(state.records.map((r) => [r.name, { id: r.current?.id ?? null, restartCount: r.restartCount }])),
  };
}
