/**
 * Every bound of the container runtimes, with its reason (STYLE rule 5), checked against each
 * other by `checkRuntimeLimits` when a runtime is created.
 */
import { assert } from '../../bus/assert.js';

export const containerRuntimeLimits = {
  /** A CRI log file is rotated at this size: the kubelet's default `containerLogMaxSize` (10 MiB). */
  logFileBytesMax: 10 * 1024 * 1024,
  /** Files kept per container instance, the current one included: the kubelet's `containerLogMaxFiles` (5). */
  logFilesMax: 5,
  /**
   * Longest CRI log line; longer output is split into `P` (partial) lines, as containerd does
   * with its 16 KiB line buffer. A line without a newline is held until it ends or reaches this.
   */
  logLineBytesMax: 16 * 1024,
  /**
   * How often the process runtime reads its containers' raw output into CRI logs and checks
   * adopted containers for an exit: `kubectl logs -f` lags by at most this, and an adopted
   * container's exit is seen at most this late (own children are seen at once).
   */
  processPollMs: 250,
  /** Raw output read per stream and poll: one chatty container cannot stall the agent's loop for long. */
  rawOutputReadBytesMax: 1024 * 1024,
  /**
   * A raw output file fully copied into the CRI log is truncated once it is this large, so the
   * raw files stay bounded while the agent runs (while it is down they grow; see process-runtime.ts).
   */
  rawOutputTruncateBytesMin: 1024 * 1024,
  /** Output kept per stream of an `execSync` (probes, hooks): Kubernetes keeps 10 KiB of a probe's output; hooks' is logged. */
  execOutputBytesMax: 1024 * 1024,
  /** How often `stopContainer` checks whether the group has exited before its grace ends. */
  stopPollMs: 50,
  /** After the SIGKILL, how long `stopContainer` waits for the exit to be recorded before reporting the container gone. */
  killSettleMs: 5_000,
  /**
   * How long `startContainer` waits for the container to record its pid (its first act, within
   * milliseconds): longer means the host is stalled, and the container is reported running on
   * its wrapper's liveness alone.
   */
  containerPidWaitMs: 5_000,
  /** How often that wait looks for the pid file. */
  containerPidPollMs: 5,
  /**
   * When a container's leader exits, what is left of its process group is killed (as the kernel
   * kills a pid namespace with its init), but only within this long of the exit: later, the
   * group's id could belong to a new process that reused the pid.
   */
  stragglerKillWindowMs: 5_000,
  /** Containers one runtime tracks (110 pods × a few containers and their exited instances). */
  containersMax: 4_096,
} as const;

export function checkRuntimeLimits(limits: typeof containerRuntimeLimits = containerRuntimeLimits): void {
  assert(limits.logLineBytesMax < limits.logFileBytesMax, 'a log line must fit in a log file');
  assert(limits.logFilesMax >= 1, 'at least the current log file');
  assert(limits.rawOutputTruncateBytesMin >= limits.logLineBytesMax, 'truncation never cuts a pending line short');
  assert(limits.stopPollMs < limits.killSettleMs, 'the stop poll runs within the settle time');
}
