/**
 * One pod worker per pod uid (the kubelet's podWorkers), an XState machine:
 *
 *   starting ─▶ preparing ──▶ syncing ⇄ idle ──(deletionTimestamp | unassigned | drain)──▶ terminating ──▶ terminated
 *       │  ▲          (after each sync: again at once if something happened meanwhile; else
 *       ▼  │           wait for a container event, a probe change, a pod update, the relist
 *   prepareWait        period or the end of a CrashLoopBackOff, whichever is first)
 *
 *   terminating ──(drain)──▶ drained;   any ──worker.stop──▶ stopped (the agent stops without drain: containers keep running)
 *
 * `preparing` gets the sandbox and volumes, `syncing` runs one pass of pod-sync.ts (refresh from
 * the runtime, start init containers in order then the containers, kill on liveness/startup
 * failure, report status), `terminating` runs pod-termination.ts. Runtime calls happen only in
 * these invoked actors; events that arrive while one runs are remembered (`dirty`, `termination`)
 * and acted on when it is done, so a pod is never stopped halfway through a start.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ProbeTransition } from '../agent-context.js';
import { kubeletLimits } from './limits.js';
import { preparePod, reportSetupFailure, syncPod, type ProbeListener } from './pod-sync.js';
import { killPodNow, terminatePod } from './pod-termination.js';
import type { PodWorkerDeps, TerminationMode, WorkerState } from './worker-state.js';

export type PodWorkerEvent =
  | { readonly type: 'pod.updated'; readonly pod: Pod }
  | { readonly type: 'pod.unassigned' }
  | { readonly type: 'pod.drain' }
  | { readonly type: 'container.changed' }
  | { readonly type: 'probe.changed'; readonly container: string; readonly containerId: string; readonly transition: ProbeTransition }
  | { readonly type: 'worker.stop' };

export interface PodWorkerInput {
  readonly state: WorkerState;
  readonly deps: PodWorkerDeps;
  /** Where the worker's probe transitions go (the actor itself; set once the actor exists). */
  readonly probes: { listener: ProbeListener };
}

interface Context extends PodWorkerInput {
  termination: TerminationMode | null;
  dirty: boolean;
}

/** A stronger request wins: unassigned (at once) over deletion (graceful) over drain. */
function strongest(current: TerminationMode | null, next: TerminationMode): TerminationMode {
  const rank: Record<TerminationMode, number> = { drain: 0, deletion: 1, unassigned: 2 };
  return current === null || rank[next] > rank[current] ? next : current;
}

function applyProbe(context: Context, event: Extract<PodWorkerEvent, { type: 'probe.changed' }>): void {
  const record = context.state.records.find((r) => r.name === event.container && r.current?.id === event.containerId);
  if (record === undefined) return;
  const { kind, healthy, message } = event.transition;
  if (kind === 'readiness') record.ready = healthy && record.started;
  else if (kind === 'startup' && healthy) {
    record.started = true;
    const spec = [...(context.state.pod.spec?.containers ?? [])].find((c) => c.name === record.name);
    if (spec?.readinessProbe === undefined) record.ready = true;
  } else if (!healthy) record.killRequested = `${kind} probe failed: ${message}`;
}

/** While any state but terminating: remember what happened; the state's `always` or the invoke's end acts on it. */
const noteEvents = {
  'pod.updated': { actions: 'notePod' },
  'pod.unassigned': { actions: 'noteUnassigned' },
  'pod.drain': { actions: 'noteDrain' },
  'container.changed': { actions: 'markDirty' },
  'probe.changed': { actions: 'noteProbe' },
} as const;

export const podWorkerMachine = setup({
  types: { context: {} as Context, input: {} as PodWorkerInput, events: {} as PodWorkerEvent },
  actors: {
    prepare: fromPromise<void, Context>(({ input }) => preparePod(input.state, input.deps)),
    sync: fromPromise<void, Context>(({ input }) => syncPod(input.state, input.deps, (...args) => input.probes.listener(...args))),
    terminate: fromPromise<void, Context>(({ input }) => terminatePod(input.state, input.deps, input.termination ?? 'unassigned')),
    killNow: fromPromise<void, Context>(({ input }) => killPodNow(input.state, input.deps)),
  },
  actions: {
    notePod: assign(({ context, event }) => {
      if (event.type !== 'pod.updated') return {};
      context.state.pod = event.pod;
      const deleting = event.pod.metadata?.deletionTimestamp !== undefined;
      return { dirty: true, termination: deleting ? strongest(context.termination, 'deletion') : context.termination };
    }),
    noteUnassigned: assign({ termination: ({ context }) => strongest(context.termination, 'unassigned') }),
    noteDrain: assign({ termination: ({ context }) => strongest(context.termination, 'drain') }),
    markDirty: assign({ dirty: true }),
    noteProbe: assign(({ context, event }) => {
      if (event.type === 'probe.changed') applyProbe(context, event);
      return { dirty: true };
    }),
    logFailure: ({ context, event }, params: { step: string }) => {
      context.deps.logger.warn(`pod ${params.step} failed`, { pod: context.state.pod.metadata?.name, uid: context.state.uid, error: (event as { error?: unknown }).error });
    },
    reportSetupFailure: ({ context, event }) => reportSetupFailure(context.state, context.deps, (event as { error?: unknown }).error),
    stopProbes: ({ context }) => {
      for (const probe of context.state.probes.values()) probe.stop();
      context.state.probes.clear();
    },
  },
  guards: {
    terminationRequested: ({ context }) => context.termination !== null,
    dirty: ({ context }) => context.dirty,
    draining: ({ context }) => context.termination === 'drain',
  },
  delays: {
    sandboxRetry: kubeletLimits.sandboxRetryMs,
    nextSync: ({ context }) => {
      const wake = context.state.wakeAtMonotonicMs;
      if (wake === null) return kubeletLimits.relistIntervalMs;
      return Math.max(0, Math.min(kubeletLimits.relistIntervalMs, wake - context.deps.clock.now()));
    },
  },
}).createMachine({
  id: 'podWorker',
  context: ({ input }) => ({
    ...input,
    termination: input.state.pod.metadata?.deletionTimestamp !== undefined ? 'deletion' : null,
    dirty: false,
  }),
  initial: 'starting',
  on: { 'worker.stop': '.stopped' },
  states: {
    // A pod already being deleted when the worker begins (agent restart mid-deletion) only terminates.
    starting: { always: [{ guard: 'terminationRequested', target: 'terminating' }, { target: 'preparing' }] },
    preparing: {
      on: noteEvents,
      invoke: {
        src: 'prepare',
        input: ({ context }) => context,
        onDone: [{ guard: 'terminationRequested', target: 'terminating' }, { target: 'syncing' }],
        onError: [
          { guard: 'terminationRequested', target: 'terminating' },
          { target: 'prepareWait', actions: [{ type: 'logFailure', params: { step: 'sandbox setup' } }, 'reportSetupFailure'] },
        ],
      },
    },
    prepareWait: {
      always: { guard: 'terminationRequested', target: 'terminating' },
      on: noteEvents,
      after: { sandboxRetry: 'preparing' },
    },
    syncing: {
      entry: assign({ dirty: false }),
      on: noteEvents,
      invoke: {
        src: 'sync',
        input: ({ context }) => context,
        onDone: [
          { guard: 'terminationRequested', target: 'terminating' },
          { guard: 'dirty', target: 'syncing', reenter: true },
          { target: 'idle' },
        ],
        onError: [
          { guard: 'terminationRequested', target: 'terminating' },
          { target: 'idle', actions: { type: 'logFailure', params: { step: 'sync' } } },
        ],
      },
    },
    idle: {
      always: [
        { guard: 'terminationRequested', target: 'terminating' },
        { guard: 'dirty', target: 'syncing' },
      ],
      on: noteEvents,
      after: { nextSync: 'syncing' },
    },
    terminating: {
      entry: 'stopProbes',
      initial: 'graceful',
      states: {
        graceful: { on: { 'pod.unassigned': 'forced' } },
        // Force-deleted (`--grace-period=0 --force`) while a graceful stop runs: kill now, beside it.
        forced: { invoke: { src: 'killNow', input: ({ context }) => context, onError: {} } },
      },
      invoke: {
        src: 'terminate',
        input: ({ context }) => context,
        onDone: [{ guard: 'draining', target: 'drained' }, { target: 'terminated' }],
        onError: [
          { guard: 'draining', target: 'drained', actions: { type: 'logFailure', params: { step: 'drain' } } },
          { target: 'terminated', actions: { type: 'logFailure', params: { step: 'termination' } } },
        ],
      },
    },
    terminated: { type: 'final' },
    /** Stopped for the agent's own stop (`--drain-on-stop`): the pod is still this node's. */
    drained: { type: 'final' },
    stopped: { type: 'final', entry: 'stopProbes' },
  },
});

