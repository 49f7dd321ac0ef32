/**
 * Every bound of the controller runtime, with its reason (STYLE rule 5). Checked against each
 * other at start-up by `checkRuntimeLimits`.
 */
import { assert } from '../../../bus/assert.js';

export const runtimeLimits = {
  /**
   * One API request over NATS. A request taken by a member that is then killed is never answered;
   * 10 s bounds how long a worker (and its key) waits for that, well above a healthy request's
   * milliseconds. The loop retries the key; its writes are idempotent or conflict-checked.
   */
  requestTimeoutMs: 10_000,
  /** A 429 is retried this many times after its Retry-After before the caller sees TooManyRequestsError. */
  tooManyRequestsRetriesMax: 3,
  /** Longest Retry-After honoured: a larger one is clamped, so a controller is never parked for minutes by one answer. */
  retryAfterMsMax: 10_000,
  /**
   * How often a watch over NATS renews its stream. A renewal is also how the client learns that
   * the member serving the stream died (no responders): at the transport's default of 10 s an
   * informer could sit on a dead stream, blind, that long; 2 s costs one small request per stream.
   */
  watchRenewEveryMs: 2_000,
  /** Page size of an informer's list, as client-go's reflector pages (500). */
  listPageSize: 500,
  /**
   * Objects one informer holds. Kubernetes' tested scale is 150,000 pods per cluster; at a few
   * KiB each that is already most of a process's heap. Beyond it the informer refuses to sync
   * (InformerCapacityError) rather than run controllers on a partial view.
   */
  informerObjectsMax: 150_000,
  /** The server-side watch timeout asked for; client-go picks 5 to 10 minutes at random so watches do not end together. */
  watchTimeoutSecondsMin: 300,
  watchTimeoutSecondsMax: 600,
  /** Backoff of an informer whose list or watch fails: from 200 ms doubling to 30 s, like the reflector's. */
  informerBackoffInitialMs: 200,
  informerBackoffMaxMs: 30_000,
  /** Keys waiting in one work queue: bounded by the objects the informers hold. */
  queueKeysMax: 150_000,
  /** Keys waiting for `addAfter` timers in one queue. */
  queueDelayedKeysMax: 150_000,
  /** Per-item backoff of a failed key: 5 ms doubling, capped at 1000 s (client-go's DefaultControllerRateLimiter). */
  itemBackoffBaseMs: 5,
  itemBackoffMaxMs: 1_000_000,
  /** The overall bucket of retries, 10 per second with a burst of 100 (client-go's default). */
  retryQps: 10,
  retryBurst: 100,
  /** Retries of one key before the runtime gives up with a `ReconcileFailed` Warning Event. */
  maxRetriesDefault: 15,
  /** Workers of one controller when neither the spec nor `--concurrent-workers` says. */
  workersDefault: 1,
  workersMax: 64,
  /** Event aggregation cache entries: client-go's event correlator keeps 4,096. */
  eventCacheMax: 4_096,
  /** Event writes in flight; beyond it events are dropped (counted, logged): events are best effort. */
  eventsInFlightMax: 100,
  /** How long a controller may wait for its informers to sync before it reports and retries. */
  informerSyncTimeoutMs: 60_000,
  /** A stopping controller waits this long for in-flight reconciles before it lets them finish unobserved. */
  stopDrainMs: 2_000,
} as const;

export function checkRuntimeLimits(): void {
  const l = runtimeLimits;
  assert(l.watchTimeoutSecondsMin <= l.watchTimeoutSecondsMax, 'watch timeout range is inverted');
  assert(l.informerBackoffInitialMs <= l.informerBackoffMaxMs, 'informer backoff range is inverted');
  assert(l.itemBackoffBaseMs <= l.itemBackoffMaxMs, 'item backoff range is inverted');
  assert(l.queueKeysMax >= l.informerObjectsMax, 'a queue must hold a key per object an informer holds');
  assert(l.workersDefault <= l.workersMax, 'default workers above the bound');
}
