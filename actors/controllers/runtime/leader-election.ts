/**
 * Leader election on a `coordination.k8s.io` Lease (`kube-system/<name>`), as client-go's
 * leaderelection package does it, as an XState machine:
 *
 *   candidate ──(created, released or expired Lease taken)──▶ leading ──(renew deadline passed,
 *       ▲                                                         │      or another holder seen)
 *       └─────────────────────────────────────────────────────────┘
 *   leading ──(leader.stop)──▶ releasing (holderIdentity cleared) ──▶ stopped
 *
 * Safety: a leader gives up (emits `leader.stopped`, the host stops its loops) once
 * `renewDeadline` has passed since the START of its last successful renew. Another candidate
 * takes over only after seeing that renew's record unchanged for `leaseDuration`, and it saw it no
 * earlier than it was written, so with renewDeadline < leaseDuration the old leader has stopped
 * before anyone else starts. Writes carry the resourceVersion read, so two candidates racing for
 * an expired Lease cannot both win (one gets 409).
 *
 * Liveness: a candidate watches the Lease (watchLease) and schedules its next try at the moment
 * the Lease would expire (or one retry period, whichever is sooner), so a killed holder is
 * replaced about one lease duration after its last renew, within leaseDuration + retryPeriod of
 * the kill.
 */
import { assign, cancel, emit, fromCallback, fromPromise, raise, setup } from 'xstate';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Clock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { assert } from '../../../bus/assert.js';
import { isAlreadyExists, isConflict, isNotFound } from './api-errors.js';
import { decideLease, leaseSpecFor, newerObservation, type LeaseObservation } from './lease-decision.js';
import { refs } from './resource-refs.js';
import type { ApiClient } from './types.js';

export interface LeaderElectionTiming {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** Kubernetes' defaults: 15 s / 10 s / 2 s. */
export const defaultLeaderElectionTiming: LeaderElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export class LeaderElectionTimingError extends Error {
  readonly code = 'leaderElectionTiming';
}

/** client-go's checks: leaseDuration > renewDeadline > retryPeriod (×1.2 jitter) > 0. */
export function checkLeaderElectionTiming(timing: LeaderElectionTiming): void {
  const { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry } = timing;
  if (!(retry > 0)) throw new LeaderElectionTimingError('--leader-elect-retry-period must be positive');
  if (!(renew > retry * 1.2)) throw new LeaderElectionTimingError(`--leader-elect-renew-deadline (${renew} ms) must be greater than 1.2 × the retry period (${retry} ms)`);
  if (!(lease > renew)) throw new LeaderElectionTimingError(`--leader-elect-lease-duration (${lease} ms) must be greater than the renew deadline (${renew} ms)`);
  if (lease % 1000 !== 0) throw new LeaderElectionTimingError(`--leader-elect-lease-duration must be whole seconds (Lease.spec.leaseDurationSeconds), got ${lease} ms`);
}

export interface LeaderElectionInput {
  readonly api: ApiClient;
  /** `kube-controller-manager`, `kube-scheduler`. */
  readonly name: string;
  readonly namespace?: string;
  /** Unique per process run (client-go: hostname + uuid), so a restarted process never believes it still leads. */
  readonly identity: string;
  readonly timing: LeaderElectionTiming;
  /** Monotonic time for expiry and deadlines; the same clock the actor's delays run on. */
  readonly clock: Clock;
  /** Wall time for the Lease's acquireTime and renewTime (read by people and kubectl). */
  readonly wallClock: () => Date;
  readonly logger: Logger;
}

/** What one try produced. `leading`: the Lease is ours as of `startedMs` (when the try began). */
export type AttemptResult =
  | { readonly outcome: 'leading'; readonly startedMs: number; readonly observed: LeaseObservation | null }
  | { readonly outcome: 'following'; readonly holder: string; readonly expiresAtMs: number; readonly observed: LeaseObservation | null }
  | { readonly outcome: 'failed'; readonly error: unknown };

interface Context {
  readonly input: LeaderElectionInput;
  observed: LeaseObservation | null;
  lastRenewStartMs: number;
  nextLookMs: number;
  holder: string;
}

export type LeaderElectionEvent =
  | { type: 'leader.stop' }
  | { type: 'lease.renewDeadline' }
  /** The candidate's watch saw the Lease (null: none exists) at local time `atMs`. */
  | { type: 'lease.seen'; lease: Lease | null; atMs: number };
export type LeaderElectionEmitted =
  | { type: 'leader.started'; identity: string }
  | { type: 'leader.stopped'; reason: 'renewDeadline' | 'lostToOther' | 'stop' }
  /**
   * After each try that found another holder. `overdue`: its record has not changed for longer
   * than the renew deadline, so a live holder would have stopped its loops by now; the host may
   * warm its caches for the term it is about to start (elected-component.ts).
   */
  | { type: 'leader.observed'; holder: string; overdue: boolean };

/** One get + decide + write. Never throws: a failure is an outcome. */
export async function tryAcquireOrRenew(input: LeaderElectionInput, observed: LeaseObservation | null): Promise<AttemptResult> {
  const startedMs = input.clock.now();
  const namespace = input.namespace ?? 'kube-system';
  try {
    let lease: Lease | null;
    try {
      lease = await input.api.get<Lease>(refs.leases, namespace, input.name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      lease = null;
    }
    const { decision, observed: seen } = decideLease(lease, { identity: input.identity, nowMs: input.clock.now(), observed });
    if (decision.kind === 'wait') return { outcome: 'following', holder: decision.holder, expiresAtMs: decision.expiresAtMs, observed: seen };
    const spec = leaseSpecFor(decision.kind, lease, { identity: input.identity, leaseDurationSeconds: input.timing.leaseDurationMs / 1000, now: input.wallClock() });
    if (decision.kind === 'create') {
      await input.api.create(refs.leases, namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: input.name, namespace }, spec });
    } else {
      const current = lease as Lease;
      await input.api.update(refs.leases, namespace, input.name, { ...current, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec });
    }
    return { outcome: 'leading', startedMs, observed: null };
  } catch (error) {
    // A lost race (409 on update, or a create someone else made first) is simply "not us this time".
    if (isConflict(error) || isAlreadyExists(error)) return { outcome: 'following', holder: '', expiresAtMs: startedMs + input.timing.retryPeriodMs, observed };
    return { outcome: 'failed', error };
  }
}

/**
 * A candidate watches its Lease between tries, so it sees each renew when it is written rather
 * than at its next try: expiry then counts from (almost) the write itself, and a killed holder is
 * replaced about one lease duration after its last renew, not up to a retry period later. Tries
 * go on as before; the watch only sharpens the observation. A failed or ended watch is reopened
 * after a retry period.
 */
function watchLease(input: LeaderElectionInput, seen: (lease: Lease | null) => void): () => void {
  const namespace = input.namespace ?? 'kube-system';
  let stopped = false;
  let handle: { stop(): void } | null = null;
  let timer = -1;
  const again = (): void => {
    if (!stopped) timer = input.clock.setTimeout(() => void open(), input.timing.retryPeriodMs);
  };
  const open = async (): Promise<void> => {
    try {
      const fieldSelector = `metadata.name=${input.name}`;
      const { items, resourceVersion } = await input.api.list<Lease>(refs.leases, { namespace, fieldSelector });
      if (stopped) return;
      seen(items.find((lease) => lease.metadata?.name === input.name) ?? null);
      const opened = await input.api.watch<Lease>(refs.leases, { namespace, resourceVersion, fieldSelector }, {
        onEvent: (type, lease) => {
          if (stopped || lease?.metadata?.name !== input.name) return;
          if (type === 'ADDED' || type === 'MODIFIED') seen(lease);
          else if (type === 'DELETED') seen(null);
        },
        onEnd: () => again(),
      });
      if (stopped) opened.stop();
      else handle = opened;
    } catch {
      again();
    }
  };
  void open();
  return () => {
    stopped = true;
    input.clock.clearTimeout(timer);
    handle?.stop();
  };
}

/**
 * A try that takes longer than max(retry period, renew deadline / 2) counts as failed, so the
 * next one starts: a request that went to a member killed meanwhile is never answered, and
 * waiting out the client's own timeout would hold a candidate back for that long.
 */
function withDeadline(input: LeaderElectionInput, attempt: Promise<AttemptResult>): Promise<AttemptResult> {
  const timeoutMs = Math.max(input.timing.retryPeriodMs, input.timing.renewDeadlineMs / 2);
  let timer = -1;
  const late = new Promise<AttemptResult>((resolve) => {
    timer = input.clock.setTimeout(() => resolve({ outcome: 'failed', error: new Error(`the Lease try took longer than ${timeoutMs} ms`) }), timeoutMs);
  });
  return Promise.race([attempt, late]).finally(() => input.clock.clearTimeout(timer));
}

/** Clears holderIdentity so another candidate takes over at once (client-go's ReleaseOnCancel). */
export async function releaseLease(input: LeaderElectionInput): Promise<void> {
  const namespace = input.namespace ?? 'kube-system';
  const lease = await input.api.get<Lease>(refs.leases, namespace, input.name);
  if (lease.spec?.holderIdentity !== input.identity) return;
  const now = input.wallClock();
  await input.api.update(refs.leases, namespace, input.name, {
    ...lease,
    spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: leaseSpecFor('renew', lease, { identity: '', leaseDurationSeconds: 1, now }).renewTime },
  });
}

export const leaderElectionMachine = setup({
  types: {
    context: {} as Context,
    input: {} as LeaderElectionInput,
    events: {} as LeaderElectionEvent,
    emitted: {} as LeaderElectionEmitted,
  },
  actors: {
    attempt: fromPromise<AttemptResult, { input: LeaderElectionInput; observed: LeaseObservation | null }>(({ input }) =>
      withDeadline(input.input, tryAcquireOrRenew(input.input, input.observed))),
    release: fromPromise<void, LeaderElectionInput>(({ input }) => releaseLease(input)),
    observeLease: fromCallback<LeaderElectionEvent, LeaderElectionInput>(({ input, sendBack }) =>
      watchLease(input, (lease) => sendBack({ type: 'lease.seen', lease, atMs: input.clock.now() }))),
  },
  delays: {
    retryPeriod: ({ context }) => context.input.timing.retryPeriodMs,
    /** Until the holder's Lease would expire, but at least 10 ms and at most one retry period. */
    nextLook: ({ context }) => Math.min(context.input.timing.retryPeriodMs, Math.max(10, context.nextLookMs - context.input.clock.now())),
  },
  guards: {
    leading: (_, result: AttemptResult) => result.outcome === 'leading',
    following: (_, result: AttemptResult) => result.outcome === 'following',
  },
  actions: {
    scheduleRenewDeadline: raise({ type: 'lease.renewDeadline' }, {
      id: 'renewDeadline',
      delay: ({ context }) => Math.max(0, context.input.timing.renewDeadlineMs - (context.input.clock.now() - context.lastRenewStartMs)),
    }),
    cancelRenewDeadline: cancel('renewDeadline'),
    noteRenewed: assign(({ event }) => {
      const result = (event as unknown as { output: AttemptResult }).output;
      assert(result.outcome === 'leading', 'noteRenewed on a try that did not lead');
      return { lastRenewStartMs: result.startedMs, observed: null, holder: '' };
    }),
    noteFollowing: assign(({ context, event }) => {
      const result = (event as unknown as { output: AttemptResult }).output;
      if (result.outcome !== 'following') return { nextLookMs: context.input.clock.now() + context.input.timing.retryPeriodMs };
      // The watch may have seen a newer record while the try was in flight: the newer sighting counts.
      const observed = newerObservation(context.observed, result.observed);
      if (observed === null || observed === result.observed) return { observed, nextLookMs: result.expiresAtMs, holder: result.holder };
      return { observed, nextLookMs: observed.atMs + observed.leaseDurationMs };
    }),
    /** A watched Lease: a new record restarts the expiry count from now, as a try would have. */
    noteSeen: assign(({ context, event }) => {
      if (event.type !== 'lease.seen' || event.lease === null) return {};
      const { decision, observed } = decideLease(event.lease, { identity: context.input.identity, nowMs: event.atMs, observed: context.observed });
      if (decision.kind !== 'wait') return { observed, nextLookMs: event.atMs };
      return { observed, nextLookMs: decision.expiresAtMs, holder: decision.holder };
    }),
    noteFailed: assign(({ context, event }) => {
      const result = (event as unknown as { output?: AttemptResult; error?: unknown }).output;
      context.input.logger.debug('lease try failed', { lease: context.input.name, error: result?.outcome === 'failed' ? result.error : (event as { error?: unknown }).error });
      return { nextLookMs: context.input.clock.now() + context.input.timing.retryPeriodMs };
    }),
  },
}).createMachine({
  id: 'leaderElection',
  context: ({ input }) => ({ input, observed: null, lastRenewStartMs: 0, nextLookMs: 0, holder: '' }),
  initial: 'candidate',
  states: {
    candidate: {
      initial: 'trying',
      invoke: { src: 'observeLease', input: ({ context }) => context.input },
      on: { 'leader.stop': '#leaderElection.stopped', 'lease.seen': { actions: 'noteSeen' } },
      states: {
        trying: {
          invoke: {
            src: 'attempt',
            input: ({ context }) => ({ input: context.input, observed: context.observed }),
            onDone: [
              { guard: { type: 'leading', params: ({ event }) => event.output }, target: '#leaderElection.leading', actions: 'noteRenewed' },
              {
                guard: { type: 'following', params: ({ event }) => event.output },
                target: 'waiting',
                actions: ['noteFollowing', emit(({ context }) => ({
                  type: 'leader.observed' as const,
                  holder: context.holder,
                  overdue: context.holder !== '' && context.observed !== null && context.input.clock.now() - context.observed.atMs >= context.input.timing.renewDeadlineMs,
                }))],
              },
              { target: 'waiting', actions: 'noteFailed' },
            ],
            onError: { target: 'waiting', actions: 'noteFailed' },
          },
        },
        waiting: {
          after: { nextLook: 'trying' },
          // Re-entered so the next look is timed from what was just seen (a released Lease: at once).
          on: { 'lease.seen': { target: 'waiting', reenter: true, actions: 'noteSeen' } },
        },
      },
    },
    leading: {
      entry: ['scheduleRenewDeadline', emit(({ context }) => ({ type: 'leader.started' as const, identity: context.input.identity }))],
      exit: 'cancelRenewDeadline',
      initial: 'waiting',
      on: {
        'lease.renewDeadline': { target: 'candidate', actions: emit({ type: 'leader.stopped' as const, reason: 'renewDeadline' as const }) },
        'leader.stop': { target: 'releasing', actions: emit({ type: 'leader.stopped' as const, reason: 'stop' as const }) },
      },
      states: {
        waiting: { after: { retryPeriod: 'renewing' } },
        renewing: {
          invoke: {
            src: 'attempt',
            input: ({ context }) => ({ input: context.input, observed: context.observed }),
            onDone: [
              { guard: { type: 'leading', params: ({ event }) => event.output }, target: 'waiting', actions: ['noteRenewed', 'cancelRenewDeadline', 'scheduleRenewDeadline'] },
              {
                guard: ({ event }) => event.output.outcome === 'following' && event.output.holder !== '',
                target: '#leaderElection.candidate',
                actions: ['noteFollowing', emit({ type: 'leader.stopped' as const, reason: 'lostToOther' as const })],
              },
              { target: 'waiting', actions: 'noteFailed' },
            ],
            onError: { target: 'waiting', actions: 'noteFailed' },
          },
        },
      },
    },
    releasing: {
      invoke: { src: 'release', input: ({ context }) => context.input, onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});
