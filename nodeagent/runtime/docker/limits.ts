/**
 * Every bound of the `docker` runtime, with its reason (STYLE rule 5), checked against each other
 * by `checkDockerLimits` when the runtime opens.
 */
import { assert } from '../../../bus/assert.js';
import { containerRuntimeLimits } from '../limits.js';

export const dockerLimits = {
  /** `openDockerRuntime`'s ping: a local engine answers in milliseconds; longer means it is down or wedged. */
  pingTimeoutMs: 5_000,
  /**
   * One engine request that is not a stream (inspect, create, list): a busy dockerd answers within
   * a second or two; past this the caller gets an error instead of a pod worker hanging.
   */
  requestTimeoutMs: 30_000,
  /** Containers (sandboxes included) one runtime instance follows and caches: the process runtime's bound. */
  containersMax: containerRuntimeLimits.containersMax,
  /** A log line without a newline is held up to this, then written as a `P` piece (containerd's 16 KiB). */
  logLineBytesMax: containerRuntimeLimits.logLineBytesMax,
  /** First wait before re-following a container's log stream that ended while the container still runs (dockerd restarted). */
  logRetryMinMs: 200,
  /** Longest wait between re-follows: an engine down for minutes is retried this often, not in a tight loop. */
  logRetryMaxMs: 5_000,
  /** First wait before re-opening the engine's event stream after it ended. */
  eventRetryMinMs: 100,
  /** Longest wait between event stream re-opens (exits are also seen at the kubelet's relist). */
  eventRetryMaxMs: 5_000,
  /** One event line from the engine; a longer one is a protocol error, dropped instead of growing a buffer. */
  eventLineBytesMax: 64 * 1024,
  /** Output kept per stream of an `execSync` (probes, hooks): the process runtime's bound. */
  execOutputBytesMax: containerRuntimeLimits.execOutputBytesMax,
  /** After an execSync's timeout, how long its stream may take to end once the command was killed. */
  execKillSettleMs: 2_000,
  /** An image pull (no registry here, so mostly the time to learn it is unreachable): a big image over a slow link takes minutes. */
  pullTimeoutMs: 10 * 60_000,
  /** A `docker load` of one local image tar (a few MB). */
  loadTimeoutMs: 60_000,
  /** After SIGKILL (stop with t=0), how long the engine may take to report the container stopped. */
  killSettleMs: 10_000,
  /** How long an attach whose connection closed waits for the container's exit code before answering -1 (session closed). */
  attachExitSettleMs: 1_000,
} as const;

export function checkDockerLimits(limits: typeof dockerLimits = dockerLimits): void {
  assert(limits.logRetryMinMs <= limits.logRetryMaxMs, 'log retry bounds ordered');
  assert(limits.eventRetryMinMs <= limits.eventRetryMaxMs, 'event retry bounds ordered');
  assert(limits.pingTimeoutMs <= limits.requestTimeoutMs, 'a ping is a request');
  assert(limits.logLineBytesMax >= 1024, 'a log line holds at least a short line');
}
