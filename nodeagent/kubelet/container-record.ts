/**
 * What a pod worker knows of each of its containers: the instance running now (or that exited
 * last), the one before it, restart count, probe results and CrashLoopBackOff bookkeeping. The
 * worker updates records from the runtime; `pod-status.ts` turns them into the Kubernetes status
 * and `pod-actions.ts` into what to do next, both pure.
 */
import type { ContainerStatus } from '../runtime/types.js';

/** One container instance as the runtime reports it (wall-clock timestamps, epoch ms). */
export interface ContainerInstance {
  readonly id: string;
  readonly attempt: number;
  readonly image: string;
  readonly state: ContainerStatus['state'];
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  readonly exitCode: number | null;
  readonly reason: string | null;
  readonly message: string | null;
}

export interface ContainerRecord {
  readonly name: string;
  readonly init: boolean;
  /** Kubernetes' restartCount: the attempt number of the current instance. */
  restartCount: number;
  current: ContainerInstance | null;
  /** The instance before `current` (status `lastState`). */
  previous: ContainerInstance | null;
  /** Set while the worker holds the container back: CrashLoopBackOff, CreateContainerError, ... */
  waiting: { readonly reason: string; readonly message: string } | null;
  /** Startup probe passed (or none): Kubernetes' `started`. */
  started: boolean;
  /** Readiness probe passed (or none, once started). */
  ready: boolean;
  /** Monotonic time (agent clock) the current instance was seen starting: how long it ran decides the backoff reset. */
  startedAtMonotonicMs: number | null;
  /** The CrashLoopBackOff delay used before the last restart (null: never backed off). */
  backoffDelayMs: number | null;
  /** Monotonic time before which the container is not started again. */
  restartAtMonotonicMs: number | null;
  /** A liveness or startup probe failed: the worker stops this instance and restarts it per policy. */
  killRequested: string | null;
  /** An instance was started before (maybe by the agent before a restart): the next start is a restart (count + 1). */
  everStarted: boolean;
  /** Failed image pulls in a row (ErrImagePull, then ImagePullBackOff); 0 after a pull succeeds. */
  imagePullFailures: number;
}

export function newContainerRecord(name: string, init: boolean, restartCount = 0): ContainerRecord {
  return {
    name, init, restartCount, current: null, previous: null, waiting: null, started: false, ready: false,
    startedAtMonotonicMs: null, backoffDelayMs: null, restartAtMonotonicMs: null, killRequested: null,
    everStarted: false, imagePullFailures: 0,
  };
}

export function instanceOf(status: ContainerStatus): ContainerInstance {
  return {
    id: status.id, attempt: status.attempt, image: status.image, state: status.state,
    startedAtMs: status.startedAtMs, finishedAtMs: status.finishedAtMs, exitCode: status.exitCode,
    reason: status.reason, message: status.message,
  };
}

export function isExited(instance: ContainerInstance | null): instance is ContainerInstance {
  return instance !== null && instance.state === 'exited';
}

export function isRunning(instance: ContainerInstance | null): instance is ContainerInstance {
  return instance !== null && instance.state === 'running';
}

/** An init container that finished its work: exited 0. */
export function initSucceeded(record: ContainerRecord): boolean {
  return isExited(record.current) && record.current.exitCode === 0;
}
