/**
 * What state a process container is in, decided from what the runtime can observe on disk and in
 * /proc, the same way whether this agent started it or adopted it after a restart. Pure: the
 * observations are gathered by the caller (liveness first, then the exit file, so an exit that
 * happens in between is read, not mistaken for a vanished process).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerState } from '../types.js';
import { oomKills } from './cgroups.js';
import { readIntegerFile, type ContainerRecord } from './layout.js';
import { isAlive } from './proc.js';

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

/** Gathers the observation of one container (liveness first, then its exit record) and decides. */
export function observeContainer(record: ContainerRecord, stateDir: string, nowMs: number): DecidedState {
  const wrapperAlive = record.wrapper !== null && isAlive(record.wrapper);
  const containerAlive = record.process !== null && isAlive(record.process);
  const exitFile = join(stateDir, 'exit');
  const recordedExitCode = readIntegerFile(exitFile);
  return decideContainerState({
    startedAtMs: record.startedAtMs, cannotRun: record.cannotRun, wrapperAlive, containerAlive, recordedExitCode,
    recordedAtMs: recordedExitCode === undefined ? undefined : Math.round(statSync(exitFile).mtimeMs),
    oomKills: oomKills(record.cgroups), nowMs,
  });
}
