/**
 * The engine's records as the runtime contract's statuses, pure (unit-tested with recorded
 * engine JSON). Reasons as the kubelet reports them for Docker: `OOMKilled` when the engine saw
 * the cgroup's OOM kill, `ContainerCannotRun` when it could not start the process at all (its
 * message is the engine's), `Completed` for exit 0, `Error` otherwise.
 */
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { runtimeLabels, type ContainerState, type ContainerStatus, type PodSandboxStatus } from '../types.js';
import { dockerLabels } from './labels.js';

/** The engine's zero time ("0001-01-01T00:00:00Z") means never. */
export function engineTimeMs(value: string | undefined): number | null {
  if (value === undefined || value === '' || value.startsWith('0001-')) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function containerState(status: string): ContainerState {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

/**
 * The container's status; `initFailure` is what the container's init (Init: true) said when it
 * could not exec the command (init-failure.ts): the engine started the init, so only its words
 * tell a missing command from a command that exited 127.
 */
export function containerStatusOf(info: ContainerInspectInfo, initFailure: string | null = null): ContainerStatus {
  const labels = info.Config.Labels ?? {};
  const state = containerState(info.State.Status);
  const exited = state === 'exited';
  const startedAtMs = engineTimeMs(info.State.StartedAt);
  const cannotRun = (info.State.Error !== '' && startedAtMs === null) || (exited && initFailure !== null);
  return {
    id: info.Id,
    sandboxId: labels[dockerLabels.sandbox] ?? '',
    name: labels[runtimeLabels.containerName] ?? info.Name.replace(/^\//, ''),
    attempt: Number(labels[runtimeLabels.attempt] ?? '0') || 0,
    // A container the engine could not start is created, never started: the contract calls it exited.
    state: cannotRun ? 'exited' : state,
    createdAtMs: engineTimeMs(info.Created) ?? 0,
    startedAtMs,
    finishedAtMs: exited || cannotRun ? engineTimeMs(info.State.FinishedAt) : null,
    exitCode: exited || cannotRun ? info.State.ExitCode : null,
    reason: cannotRun ? 'ContainerCannotRun' : exited ? exitReason(info.State) : null,
    message: info.State.Error !== '' ? info.State.Error : exited ? initFailure : null,
    logPath: labels[dockerLabels.logPath] ?? '',
    image: labels[dockerLabels.image] ?? info.Config.Image,
    labels,
  };
}

export function exitReason(state: Pick<ContainerInspectInfo['State'], 'OOMKilled' | 'ExitCode' | 'Error' | 'StartedAt'>): string {
  if (state.OOMKilled) return 'OOMKilled';
  if (state.Error !== '' && engineTimeMs(state.StartedAt) === null) return 'ContainerCannotRun';
  return state.ExitCode === 0 ? 'Completed' : 'Error';
}

/** A sandbox from the engine's list entry (it carries the networks, so no inspect is needed). */
export function sandboxStatusOf(info: ContainerInfo, nodeIp: string): PodSandboxStatus {
  const labels = info.Labels ?? {};
  const hostNetwork = labels[dockerLabels.hostNetwork] === 'true';
  const addresses = Object.values(info.NetworkSettings?.Networks ?? {}).map((network) => network.IPAddress).filter((ip) => ip !== undefined && ip !== '');
  return {
    id: info.Id,
    podUid: labels[runtimeLabels.podUid] ?? '',
    state: info.State === 'running' ? 'ready' : 'notready',
    ip: hostNetwork ? nodeIp : addresses[0] ?? null,
    createdAtMs: info.Created * 1000,
    labels,
  };
}
