/**
 * The PodStatusSink: hands pod statuses to the API (`pods/<name>/status`, merge patch of the whole
 * status) and confirms deletions, coalesced per pod (only the newest status is written), bounded
 * in rate (a token bucket: `statusWriteQps`, `statusWriteBurst`) and queued while the API is
 * unreachable (newest wins per pod, at most `statusQueuePodsMax` pods), flushed when it answers.
 *
 * Decision: a merge patch of `status` rather than a PUT with resourceVersion: the agent owns the
 * status of its pods, so there is nothing to lose to a conflict and no read before each write.
 * A status equal to the last one written is not written again (a relist every second would
 * otherwise write every pod every second).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ApiClient, ResourceRef } from '../../actors/controllers/runtime/types.js';
import type { PodStatusSink } from '../agent-context.js';
import { kubeletLimits } from './limits.js';

/** Pods as the agent addresses them (core/v1, the only version served). */
export const podsResource: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true };

type PodStatus = NonNullable<Pod['status']>;

interface PendingStatus {
  readonly pod: Pod;
  readonly status: PodStatus;
  readonly text: string;
}

export interface StatusManager extends PodStatusSink {
  /** Status writes and deletions not yet done (tests, the agent's own status). */
  pendingCount(): number;
  /** Resolves when nothing is pending or in flight, or when the API does not answer (writes stay queued). */
  flush(): Promise<void>;
  stop(): void;
}

function httpStatusOf(error: unknown): unknown {
  return (error as { httpStatus?: unknown } | null)?.httpStatus;
}

/** Failures retrying cannot fix: the request itself is refused. */
function isPermanent(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === 400 || status === 403 || status === 404 || status === 409 || status === 422;
}

function uidOf(pod: Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export function createStatusManager(deps: { readonly api: ApiClient; readonly clock: Clock; readonly logger: Logger }): StatusManager {
  const { api, clock, logger } = deps;
  const pending = new Map<string, PendingStatus>();
  const deletions = new Map<string, Pod>();
  /** The status last written per pod uid (JSON), bounded with the queue. */
  const written = new Map<string, string>();
  /** Statuses refused 403, waiting to be asked again, and how often each pod was refused in a row. */
  const refused = new Map<string, PendingStatus>();
  const refusals = new Map<string, number>();
  let refusedTimer: TimerId | null = null;
  let tokens: number = kubeletLimits.statusWriteBurst;
  let refilledAtMs = clock.now();
  let failures = 0;
  let timer: TimerId | null = null;
  let pumping = false;
  let stopped = false;
  let waiters: (() => void)[] = [];

  function takeToken(): boolean {
    const now = clock.now();
    tokens = Math.min(kubeletLimits.statusWriteBurst, tokens + ((now - refilledAtMs) / 1000) * kubeletLimits.statusWriteQps);
    refilledAtMs = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  function wakeAfter(delayMs: number): void {
    if (timer !== null || stopped) return;
    timer = clock.setTimeout(() => {
      timer = null;
      void pump();
    }, delayMs);
  }

  function settleWaiters(): void {
    if (pumping || (failures === 0 && (pending.size > 0 || deletions.size > 0))) return;
    const toWake = waiters;
    waiters = [];
    for (const wake of toWake) wake();
  }

  async function writeOne(): Promise<'done' | 'retry'> {
    const deletion = deletions.entries().next();
    if (!deletion.done) {
      const [uid, pod] = deletion.value;
      try {
        await api.delete(podsResource, pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (error) {
        // 404: already gone; 409: the name belongs to a newer pod now (the uid precondition), ours is gone.
        if (!isPermanent(error)) return 'retry';
        if ((error as { httpStatus?: number }).httpStatus !== 404) logger.debug('pod deletion refused', { uid, error });
      }
      deletions.delete(uid);
      written.delete(uid);
      return 'done';
    }
    const next = pending.entries().next();
    if (next.done) return 'done';
    const [uid, entry] = next.value;
    try {
      // metadata.uid as the kubelet sends it: Kubernetes then refuses the patch on a newer pod of the same
      // name. kubus's status merge ignores metadata today (asked of the lead); deletions drop queued statuses meanwhile.
      const body = { metadata: { uid }, status: entry.status };
      await api.patch(podsResource, entry.pod.metadata?.namespace, entry.pod.metadata?.name ?? '', body, 'merge', { subresource: 'status' });
      written.delete(uid);
      written.set(uid, entry.text);
      refusals.delete(uid);
      while (written.size > kubeletLimits.statusQueuePodsMax) written.delete(written.keys().next().value as string);
    } catch (error) {
      if (!isPermanent(error)) return 'retry';
      if (httpStatusOf(error) === 403 && deferRefused(uid, entry, error)) {
        if (pending.get(uid) === entry) pending.delete(uid);
        return 'done';
      }
      refusals.delete(uid);
      // Dropped for good: say so where an operator looks (a pod's API status then stays as it was).
      logger.warn('pod status write refused; dropped', { uid, pod: entry.pod.metadata?.name, error: error instanceof Error ? error.message : String(error) });
    }
    // A newer status set while this one was in flight stays queued.
    if (pending.get(uid) === entry) pending.delete(uid);
    return 'done';
  }

  /** Keeps a 403-refused status to ask again later; false once the pod was refused too often in a row. */
  function deferRefused(uid: string, entry: PendingStatus, error: unknown): boolean {
    const count = (refusals.get(uid) ?? 0) + 1;
    if (count > kubeletLimits.statusRefusedRetriesMax) return false;
    refusals.set(uid, count);
    while (refusals.size > kubeletLimits.statusQueuePodsMax) refusals.delete(refusals.keys().next().value as string);
    refused.set(uid, entry);
    logger.info('pod status write refused; asking again later (the API may not know the binding yet)', {
      uid, pod: entry.pod.metadata?.name, attempt: count, retryInMs: kubeletLimits.statusRefusedRetryMs,
      error: error instanceof Error ? error.message : String(error),
    });
    if (refusedTimer === null && !stopped) {
      refusedTimer = clock.setTimeout(() => {
        refusedTimer = null;
        // A newer status set meanwhile supersedes the refused one (set() removed it).
        for (const [id, waiting] of refused) if (!pending.has(id) && !deletions.has(id)) pending.set(id, waiting);
        refused.clear();
        if (failures === 0) void pump();
      }, kubeletLimits.statusRefusedRetryMs);
    }
    return true;
  }

  async function pump(): Promise<void> {
    if (pumping || stopped) return;
    pumping = true;
    try {
      while (!stopped && (pending.size > 0 || deletions.size > 0)) {
        if (!takeToken()) {
          wakeAfter(Math.ceil(1000 / kubeletLimits.statusWriteQps));
          return;
        }
        if ((await writeOne()) === 'retry') {
          failures++;
          const delay = Math.min(kubeletLimits.statusRetryMaxMs, kubeletLimits.statusRetryInitialMs * 2 ** (failures - 1));
          logger.debug('API unreachable for pod status; queued', { pending: pending.size, deletions: deletions.size, retryInMs: delay });
          wakeAfter(delay);
          return;
        }
        failures = 0;
      }
    } finally {
      pumping = false;
      settleWaiters();
    }
  }

  return {
    set(pod, status) {
      const uid = uidOf(pod);
      if (deletions.has(uid)) return;
      const text = JSON.stringify(status);
      pending.delete(uid);
      refused.delete(uid);
      if (written.get(uid) === text) return;
      pending.set(uid, { pod, status, text });
      if (pending.size > kubeletLimits.statusQueuePodsMax) {
        const oldest = pending.keys().next().value as string;
        pending.delete(oldest);
        logger.warn('pod status queue full; dropped the oldest waiting status', { uid: oldest, bound: kubeletLimits.statusQueuePodsMax });
      }
      if (failures === 0) void pump();
    },
    confirmDeletion(pod) {
      const uid = uidOf(pod);
      pending.delete(uid);
      refused.delete(uid);
      refusals.delete(uid);
      deletions.delete(uid);
      deletions.set(uid, pod);
      if (deletions.size > kubeletLimits.deletionQueueMax) {
        const oldest = deletions.keys().next().value as string;
        deletions.delete(oldest);
        logger.warn('pod deletion queue full; dropped the oldest (the next relist finds it again)', { uid: oldest });
      }
      if (failures === 0) void pump();
    },
    pendingCount: () => pending.size + deletions.size + refused.size,
    flush: () => new Promise<void>((resolve) => {
      waiters.push(resolve);
      settleWaiters();
    }),
    stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      if (refusedTimer !== null) clock.clearTimeout(refusedTimer);
      timer = null;
      refusedTimer = null;
    },
  };
}
