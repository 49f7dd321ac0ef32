/**
 * One probe of one container instance as an actor: wait the initial delay, then attempt every
 * period, publishing each change of the result (probe-result.ts decides). Delays run on the
 * actor's clock, so tests drive a whole schedule on a SimulatedClock.
 *
 * Decision: the period counts from the start of an attempt (the kubelet's ticker), so a slow probe
 * does not stretch the schedule; an attempt longer than the period is followed at once by the next.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { ActionResult } from './probe-actions.js';
import { initialProbeResult, observeProbe, type ProbeKind, type ProbeResultState, type ProbeThresholds } from './probe-result.js';

export interface ProbeWorkerInput {
  readonly kind: ProbeKind;
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly thresholds: ProbeThresholds;
  /** Monotonic time of the actor's clock (to count the period from an attempt's start). */
  readonly now: () => number;
  readonly attempt: () => Promise<ActionResult>;
  /** Called on each change of the published result. */
  readonly onChange: (kind: ProbeKind, result: ProbeResultState, message: string) => void;
}

interface ProbeWorkerContext extends ProbeWorkerInput {
  readonly result: ProbeResultState;
  readonly attemptStartedMs: number;
  /** The message of the attempt that changed the result, until `publish` hands it on. */
  readonly change: string | null;
}

function observed(context: ProbeWorkerContext, outcome: 'success' | 'failure', message: string): Partial<ProbeWorkerContext> {
  const { state, changed } = observeProbe(context.result, outcome, { ...context.thresholds, kind: context.kind });
  return { result: state, change: changed ? message : null };
}

export const probeWorkerMachine = setup({
  types: {
    input: {} as ProbeWorkerInput,
    context: {} as ProbeWorkerContext,
  },
  actors: {
    attempt: fromPromise<ActionResult, { readonly attempt: () => Promise<ActionResult> }>(({ input }) => input.attempt()),
  },
  delays: {
    initialDelay: ({ context }) => context.initialDelayMs,
    untilNextAttempt: ({ context }) => Math.max(0, context.attemptStartedMs + context.periodMs - context.now()),
  },
  actions: {
    publish: ({ context }) => {
      if (context.change !== null) context.onChange(context.kind, context.result, context.change);
    },
  },
  guards: {
    done: ({ context }) => context.result.done,
    noDelay: ({ context }) => context.initialDelayMs <= 0,
  },
}).createMachine({
  id: 'probeWorker',
  context: ({ input }) => ({ ...input, result: initialProbeResult(input.kind), attemptStartedMs: 0, change: null }),
  initial: 'delaying',
  states: {
    delaying: {
      // No delay: probe at once rather than on the clock's next turn.
      always: { guard: 'noDelay', target: 'probing' },
      after: { initialDelay: 'probing' },
    },
    probing: {
      entry: assign({ attemptStartedMs: ({ context }) => context.now() }),
      invoke: {
        src: 'attempt',
        input: ({ context }) => ({ attempt: context.attempt }),
        onDone: {
          target: 'judging',
          actions: [assign(({ context, event }) => observed(context, event.output.outcome, event.output.message)), 'publish'],
        },
        // The actions never reject (they turn every failure into an outcome); count it as a failure if one does.
        onError: {
          target: 'judging',
          actions: [assign(({ context, event }) => observed(context, 'failure', String(event.error))), 'publish'],
        },
      },
    },
    judging: {
      always: [{ guard: 'done', target: 'held' }, { target: 'waiting' }],
    },
    waiting: {
      after: { untilNextAttempt: 'probing' },
    },
    held: { type: 'final' },
  },
});
