/**
 * CRI v1 responses → our runtime contract (pure): states, nanosecond timestamps to milliseconds,
 * the sandbox and pid found in containerd's verbose info.
 */
import { runtimeLabels, type ContainerState, type ContainerStatus, type ImageInfo, type PodSandboxStatus } from '../types.js';
import type { Labels, WireContainer, WireContainerState, WireContainerStatus, WireImage, WirePodSandbox, WirePodSandboxStatus } from './wire.js';

const nanosPerMilli = 1_000_000;

export function nanosToMillis(nanos: number): number {
  return Math.floor(nanos / nanosPerMilli);
}

export function containerState(state: WireContainerState): ContainerState {
  switch (state) {
    case 'CONTAINER_CREATED': return 'created';
    case 'CONTAINER_RUNNING': return 'running';
    case 'CONTAINER_EXITED': return 'exited';
    default: return 'unknown';
  }
}

export function sandboxView(sandbox: WirePodSandbox | WirePodSandboxStatus, ip: string | null): PodSandboxStatus {
  return {
    id: sandbox.id,
    podUid: sandbox.metadata?.uid ?? sandbox.labels[runtimeLabels.podUid] ?? '',
    state: sandbox.state === 'SANDBOX_READY' ? 'ready' : 'notready',
    ip,
    createdAtMs: nanosToMillis(sandbox.createdAt),
    labels: sandbox.labels,
  };
}

/** What containerd's verbose ContainerStatus `info` JSON tells that the status message does not. */
export interface ContainerInfo {
  readonly sandboxId: string;
  readonly pid: number | null;
}

export function parseContainerInfo(info: Labels): ContainerInfo | null {
  const text = info['info'];
  if (text === undefined) return null;
  try {
    const parsed = JSON.parse(text) as { sandboxID?: unknown; pid?: unknown };
    return {
      sandboxId: typeof parsed.sandboxID === 'string' ? parsed.sandboxID : '',
      pid: typeof parsed.pid === 'number' && parsed.pid > 0 ? parsed.pid : null,
    };
  } catch {
    return null;
  }
}

export function containerStatusView(status: WireContainerStatus, sandboxId: string): ContainerStatus {
  const state = containerState(status.state);
  const exited = state === 'exited';
  return {
    id: status.id,
    sandboxId,
    name: status.metadata?.name ?? status.labels[runtimeLabels.containerName] ?? '',
    attempt: status.metadata?.attempt ?? Number(status.labels[runtimeLabels.attempt] ?? 0),
    state,
    createdAtMs: nanosToMillis(status.createdAt),
    startedAtMs: status.startedAt > 0 ? nanosToMillis(status.startedAt) : null,
    finishedAtMs: status.finishedAt > 0 ? nanosToMillis(status.finishedAt) : null,
    exitCode: exited ? status.exitCode : null,
    reason: status.reason === '' ? (exited ? (status.exitCode === 0 ? 'Completed' : 'Error') : null) : status.reason,
    message: status.message === '' ? null : status.message,
    logPath: status.logPath,
    image: status.image?.image ?? status.imageRef,
    labels: status.labels,
  };
}

/** A listed container (no exit details: ListContainers has none) as a status. */
export function listedContainerView(container: WireContainer): ContainerStatus {
  return {
    id: container.id,
    sandboxId: container.podSandboxId,
    name: container.metadata?.name ?? container.labels[runtimeLabels.containerName] ?? '',
    attempt: container.metadata?.attempt ?? 0,
    state: containerState(container.state),
    createdAtMs: nanosToMillis(container.createdAt),
    startedAtMs: null,
    finishedAtMs: null,
    exitCode: null,
    reason: null,
    message: null,
    logPath: '',
    image: container.image?.image ?? container.imageRef,
    labels: container.labels,
  };
}

export function imageView(image: WireImage): ImageInfo {
  return { id: image.id, tags: image.repoTags, sizeBytes: image.size };
}

export type PullDecision = 'present' | 'pull' | 'neverPull';

/** Kubernetes' imagePullPolicy: Always pulls; IfNotPresent pulls when absent; Never fails when absent. */
export function pullDecision(policy: 'Always' | 'IfNotPresent' | 'Never', present: boolean): PullDecision {
  if (policy === 'Always') return 'pull';
  if (present) return 'present';
  return policy === 'Never' ? 'neverPull' : 'pull';
}
