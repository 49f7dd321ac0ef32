/**
 * What state a process container is in, decided from what the runtime can observe on disk and in
 * /proc, the same way whether this agent started it or adopted it after a restart. Pure: the
 * observations are gathered by the caller (liveness first, then the exit file, so an exit that
 * happens in between is read, not mistaken for a vanished process).
 */
import type { ContainerState } from '../types.js';

export interface ContainerObservation {
  readonly startedAtMs: number | null;
  /** The command could not be started (ContainerCannotRun), with Kubernetes' message. */
  readonly cannotRun: string | null;
  readonly wrapperAlive: boolean;
  readonly containerAlive: boolean;
  /** The status the wrapper recorded, once it did. */
  readonly recordedExitCode: number | undefined;
  /** When the wrapper recorded it (the exit file's mtime). */
  readonly recordedAtMs: number | undefined;
  /** OOM kills counted in the container's memory cgroup. */
  readonly oomKills: number;
  readonly nowMs: number;
}

export interface DecidedState {
  readonly state: ContainerState;
  readonly exitCode: number | null;
  readonly reason: string | null;
  readonly message: string | null;
  readonly finishedAtMs: number | null;
}

/** The status a container reports when its processes are gone without a recorded exit (host reboot, wrapper killed). */
export const vanishedExitCode = 255;

export function decideContainerState(observed: ContainerObservation): DecidedState {
  if (observed.cannotRun !== null) {
    return { state: 'exited', exitCode: 127, reason: 'ContainerCannotRun', message: observed.cannotRun, finishedAtMs: observed.startedAtMs };
  }
  if (observed.startedAtMs === null) return { state: 'created', exitCode: null, reason: null, message: null, finishedAtMs: null };
  if (observed.recordedExitCode !== undefined) {
    const oom = observed.oomKills > 0;
    const reason = oom ? 'OOMKilled' : observed.recordedExitCode === 0 ? 'Completed' : 'Error';
    return { state: 'exited', exitCode: observed.recordedExitCode, reason, message: null, finishedAtMs: observed.recordedAtMs ?? observed.nowMs };
  }
  if (observed.wrapperAlive || observed.containerAlive) return { state: 'running', exitCode: null, reason: null, message: null, finishedAtMs: null };
  return {
    state: 'exited', exitCode: vanishedExitCode, reason: 'Unknown',
    message: 'the container\'s processes are gone without a recorded exit status (host reboot, or its wrapper was killed)',
    finishedAtMs: observed.nowMs,
  };
}
