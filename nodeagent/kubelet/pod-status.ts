/**
 * A pod's status as Kubernetes reports it, computed from the worker's container records: phase,
 * conditions, container statuses, addresses, start time, QoS class. Pure: same records, same
 * status, so the status manager can skip a write equal to the last.
 *
 * Decision: the phase follows the kubelet's `getPhase` (pending initialization or a container
 * never started: Pending; any running: Running; all stopped: Succeeded / Failed by restart policy
 * and exit codes; a failed init container under `Never`: Failed). Ready equals ContainersReady:
 * readinessGates are ignored for now (no component sets gate conditions yet); say so if one does.
 */
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { qosClass, rfc3339Seconds, setCondition } from '../../actors/objects/index.js';
import { initSucceeded, isExited, isRunning, type ContainerInstance, type ContainerRecord } from './container-record.js';
import { restartPolicyOf } from './restart-backoff.js';

export interface PodStatusInput {
  readonly pod: Pod;
  /** Records of the init containers and the containers, in spec order. */
  readonly containers: readonly ContainerRecord[];
  readonly podIp: string | null;
  readonly hostIp: string;
  /** When the agent first acknowledged the pod (wall, epoch ms); the pod's own startTime wins once set. */
  readonly startTimeMs: number;
  /** `process`, `hollow`, ...: the scheme of containerID. */
  readonly runtimeName: string;
  /** Wall clock, epoch ms: condition transition times. */
  readonly nowMs: number;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

function exitCodeOf(instance: ContainerInstance): number {
  return instance.exitCode ?? 0;
}

export function podInitialized(records: readonly ContainerRecord[]): boolean {
  return records.filter((r) => r.init).every(initSucceeded);
}

/** The kubelet's getPhase over the records. */
export function podPhase(pod: Pod, records: readonly ContainerRecord[]): PodPhase {
  const policy = restartPolicyOf(pod.spec);
  const inits = records.filter((r) => r.init);
  if (policy === 'Never' && inits.some((r) => isExited(r.current) && exitCodeOf(r.current) !== 0)) return 'Failed';
  if (!inits.every(initSucceeded)) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const record of records.filter((r) => !r.init)) {
    if (isRunning(record.current)) running++;
    else if (isExited(record.current)) {
      stopped++;
      if (exitCodeOf(record.current) === 0) succeeded++;
    } else if (record.previous !== null) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  return policy === 'OnFailure' ? 'Running' : 'Failed';
}

function terminated(instance: ContainerInstance, containerId: string): ContainerState {
  const exitCode = exitCodeOf(instance);
  return {
    terminated: {
      exitCode,
      reason: instance.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
      ...(instance.message !== null ? { message: instance.message } : {}),
      ...(instance.startedAtMs !== null ? { startedAt: rfc3339Seconds(instance.startedAtMs) } : {}),
      ...(instance.finishedAtMs !== null ? { finishedAt: rfc3339Seconds(instance.finishedAtMs) } : {}),
      containerID: containerId,
    },
  };
}

function containerId(runtimeName: string, instance: ContainerInstance): string {
  return `${runtimeName}://${instance.id}`;
}

function containerStatus(input: PodStatusInput, record: ContainerRecord, initialized: boolean): ContainerStatus {
  const spec = [...(input.pod.spec?.initContainers ?? []), ...(input.pod.spec?.containers ?? [])].find((c) => c.name === record.name);
  const image = record.current?.image ?? spec?.image ?? '';
  const current = record.current;
  let state: ContainerState;
  let lastState: ContainerState = record.previous !== null && isExited(record.previous) ? terminated(record.previous, containerId(input.runtimeName, record.previous)) : {};
  if (record.waiting !== null) {
    state = { waiting: { reason: record.waiting.reason, message: record.waiting.message } };
    if (isExited(current)) lastState = terminated(current, containerId(input.runtimeName, current));
  } else if (current === null || current.state === 'created' || current.state === 'unknown') {
    // Kubernetes: containers wait as PodInitializing until every init container succeeded.
    state = { waiting: { reason: !record.init && initialized ? 'ContainerCreating' : 'PodInitializing' } };
  } else if (current.state === 'running') {
    state = { running: current.startedAtMs !== null ? { startedAt: rfc3339Seconds(current.startedAtMs) } : {} };
  } else {
    state = terminated(current, containerId(input.runtimeName, current));
  }
  const running = isRunning(current);
  return {
    name: record.name,
    state,
    lastState,
    ready: running && record.ready,
    restartCount: record.restartCount,
    image,
    imageID: image,
    started: running && record.started,
    ...(current !== null ? { containerID: containerId(input.runtimeName, current) } : {}),
  };
}

function names(records: readonly ContainerRecord[]): string {
  return `[${records.map((r) => r.name).join(' ')}]`;
}

function conditions(input: PodStatusInput, phase: PodPhase, statuses: readonly ContainerStatus[]): PodCondition[] {
  const now = rfc3339Seconds(input.nowMs);
  const inits = input.containers.filter((r) => r.init);
  const incomplete = inits.filter((r) => !initSucceeded(r));
  const apps = input.containers.filter((r) => !r.init);
  const unready = apps.filter((r) => statuses.find((s) => s.name === r.name)?.ready !== true);
  let list = (input.pod.status?.conditions ?? []) as PodCondition[];
  const set = (condition: PodCondition): void => {
    list = setCondition(list, condition, now);
  };
  set({ type: 'PodScheduled', status: 'True' });
  set(incomplete.length === 0 || phase === 'Succeeded'
    ? { type: 'Initialized', status: 'True' }
    : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${names(incomplete)}` });
  const ready: PodCondition = phase === 'Succeeded'
    ? { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }
    : unready.length === 0 ? { type: 'ContainersReady', status: 'True' }
    : { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: ${names(unready)}` };
  set(ready);
  set({ ...ready, type: 'Ready' });
  const order = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  return [...list].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

/** The pod's whole status from the worker's records. */
export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const phase = podPhase(pod, input.containers);
  const initialized = podInitialized(input.containers);
  const initContainerStatuses = input.containers.filter((r) => r.init).map((r) => containerStatus(input, r, initialized));
  const containerStatuses = input.containers.filter((r) => !r.init).map((r) => containerStatus(input, r, initialized));
  const startTime = pod.status?.startTime ?? rfc3339Seconds(input.startTimeMs);
  return {
    phase,
    conditions: conditions(input, phase, containerStatuses),
    hostIP: input.hostIp,
    hostIPs: [{ ip: input.hostIp }],
    ...(input.podIp !== null ? { podIP: input.podIp, podIPs: [{ ip: input.podIp }] } : {}),
    startTime,
    ...(initContainerStatuses.length > 0 ? { initContainerStatuses } : {}),
    containerStatuses,
    qosClass: qosClass(pod),
  };
}
