/**
 * The agent's assignment client (issue 11 §4): subscribes `node.<N>.assign`, lists the node's pods
 * through the API (`spec.nodeName=<N>`, paged) and hands the pod manager a `sync`, then single
 * `upsert`/`delete` updates. The decisions (what to emit, when to relist) are assignment-tracker.ts;
 * this file is the XState machine that performs the lists and the clock:
 *
 *   starting ──(first message, or none within firstMessageWaitMs)──▶ listing ──(listed)──▶ streaming
 *                                         ▲      │ (failed)                                   │
 *                                         │      ▼                                            │
 *                                         └── waiting (backoff: 0.5 s doubling to 10 s)       │
 *                                         └── spreading (0-2 s, this node's share) ◀──────────┘
 *                                                       (gap, new epoch, missed heartbeat)
 *
 * Decision: the subscription is made before the first list and kept for the client's life, so no
 * message published after a list was sent can be missed (the tracker's argument relies on it).
 */
import { assign, createActor, fromCallback, fromPromise, setup } from 'xstate';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { decode, subjects, type Clock, type Logger, type Subscription } from '../../bus/index.js';
import type { ApiClient, ResourceRef } from '../../actors/controllers/runtime/types.js';
import type { AgentContext } from '../agent-context.js';
import type { AssignmentMessage, AssignmentUpdate } from './protocol.js';
import { AssignmentTracker, type TrackerOutput } from './assignment-tracker.js';
import { assignmentClientLimits, checkAssignmentClientLimits } from './limits.js';
import { AssignmentListTooLongError } from './errors.js';

/** Spelled here: the agent imports only types from `actors` (STYLE rule 10). */
const podsResource: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true };

export interface AssignmentClient {
  stop(): Promise<void>;
  /** True once a list succeeded (the pod manager has had its first `sync`). */
  synced(): boolean;
}

export interface AssignmentClientOptions {
  /** Overrides `assignmentClientLimits.relistSpreadMs` (tests: 0). */
  readonly relistSpreadMs?: number;
}

/** This node's fixed share of the relist spread: FNV-1a of its name, so nodes spread evenly and one node's delay never changes. */
export function relistDelayMs(nodeName: string, spreadMs: number): number {
  if (spreadMs <= 0) return 0;
  let hash = 2166136261;
  for (const char of nodeName) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash % spreadMs;
}

interface ClientInput {
  readonly tracker: AssignmentTracker;
  readonly relistDelayMs: number;
  readonly api: ApiClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: (update: AssignmentUpdate) => void;
}

interface ClientContext {
  readonly input: ClientInput;
  relistWanted: boolean;
  listFailures: number;
}

type ClientEvent = { type: 'assignment.message'; message: AssignmentMessage } | { type: 'assignment.tick' };

interface Listed {
  readonly pods: Pod[];
  readonly resourceVersion: string;
}

/** Every page of the node's pods; the list's resourceVersion is the first page's (the oldest view any page reflects). */
export async function listNodePods(api: ApiClient, nodeName: string): Promise<Listed> {
  const pods: Pod[] = [];
  let resourceVersion = '';
  let next: string | undefined;
  for (let page = 0; ; page++) {
    if (page >= assignmentClientLimits.listPagesMax) throw new AssignmentListTooLongError(nodeName, assignmentClientLimits.listPagesMax);
    const result = await api.list<Pod>(podsResource, { fieldSelector: `spec.nodeName=${nodeName}`, limit: assignmentClientLimits.listPageSize, ...(next !== undefined ? { continue: next } : {}) });
    if (page === 0) resourceVersion = result.resourceVersion;
    pods.push(...result.items);
    next = result.continue;
    if (next === undefined || next === '') return { pods, resourceVersion };
  }
}

/** Hands a tracker output to the listener and remembers whether to relist. */
function deliver(context: ClientContext, output: TrackerOutput): void {
  for (const update of output.updates) context.input.emit(update);
  if (output.relist) {
    if (!context.relistWanted) context.input.logger.info('assignments: relisting', { reason: output.reason });
    context.relistWanted = true;
  }
}

export const assignmentClientMachine = setup({
  types: { context: {} as ClientContext, input: {} as ClientInput, events: {} as ClientEvent },
  actors: {
    list: fromPromise<Listed, { api: ApiClient; nodeName: string }>(({ input }) => listNodePods(input.api, input.nodeName)),
    ticker: fromCallback<ClientEvent, { clock: Clock }>(({ sendBack, input }) => {
      let timer = -1;
      const again = () => {
        timer = input.clock.setTimeout(() => {
          sendBack({ type: 'assignment.tick' });
          again();
        }, assignmentClientLimits.tickMs);
      };
      again();
      return () => input.clock.clearTimeout(timer);
    }),
  },
  actions: {
    onMessage: ({ context, event }) => {
      if (event.type === 'assignment.message') deliver(context, context.input.tracker.message(event.message, context.input.clock.now()));
    },
    onTick: ({ context }) => deliver(context, context.input.tracker.tick(context.input.clock.now())),
  },
  guards: {
    relistWanted: ({ context }) => context.relistWanted,
  },
  delays: {
    relistDelay: ({ context }) => context.input.relistDelayMs,
    listRetry: ({ context }) => Math.min(assignmentClientLimits.listBackoffMaxMs, assignmentClientLimits.listBackoffInitialMs * 2 ** Math.min(context.listFailures - 1, 16)),
  },
}).createMachine({
  id: 'assignmentClient',
  context: ({ input }) => ({ input, relistWanted: false, listFailures: 0 }),
  invoke: { src: 'ticker', input: ({ context }) => ({ clock: context.input.clock }) },
  on: { 'assignment.message': { actions: 'onMessage' }, 'assignment.tick': { actions: 'onTick' } },
  initial: 'starting',
  states: {
    starting: { always: { guard: 'relistWanted', target: 'listing' } },
    listing: {
      entry: [assign({ relistWanted: false }), ({ context }) => context.input.tracker.listStarted()],
      invoke: {
        src: 'list',
        input: ({ context }) => ({ api: context.input.api, nodeName: context.input.tracker.nodeName }),
        onDone: {
          target: 'streaming',
          actions: [assign({ listFailures: 0 }), ({ context, event }) => deliver(context, context.input.tracker.listed(event.output.pods, event.output.resourceVersion, context.input.clock.now()))],
        },
        onError: {
          target: 'waiting',
          actions: [
            assign({ listFailures: ({ context }) => context.listFailures + 1 }),
            ({ context, event }) => {
              context.input.tracker.listFailed();
              context.input.logger.warn('assignments: list failed; keeping the last state', { failures: context.listFailures, error: event.error });
            },
          ],
        },
      },
    },
    waiting: { after: { listRetry: 'listing' } },
    streaming: { always: { guard: 'relistWanted', target: 'spreading' } },
    // The stream is still applied meanwhile; the list starts from whatever was received by then.
    spreading: { after: { relistDelay: 'listing' } },
  },
});

/** Starts the client; `listener` receives every update in order. */
export function startAssignmentClient(ctx: AgentContext, listener: (update: AssignmentUpdate) => void, options: AssignmentClientOptions = {}): AssignmentClient {
  checkAssignmentClientLimits();
  const logger = ctx.logger.child({ part: 'assignments' });
  const tracker = new AssignmentTracker(ctx.nodeName, ctx.clock.now());
  const emit = (update: AssignmentUpdate) => {
    try {
      listener(update);
    } catch (error) {
      logger.error('assignment listener threw', { update: update.type, error });
    }
  };
  const actor = createActor(assignmentClientMachine, { clock: ctx.clock, input: { tracker, relistDelayMs: relistDelayMs(ctx.nodeName, options.relistSpreadMs ?? assignmentClientLimits.relistSpreadMs), api: ctx.api, clock: ctx.clock, logger, emit } });
  actor.start();
  const subscription: Subscription = ctx.bus.subscribe(subjects(ctx.cluster).nodeAssign(ctx.nodeName), (raw) => {
    let message: AssignmentMessage;
    try {
      message = decode<AssignmentMessage>(raw.data);
    } catch (error) {
      logger.warn('assignments: undecodable relay message', { error });
      return;
    }
    if ((message?.kind !== 'change' && message?.kind !== 'heartbeat') || typeof message.epoch !== 'string' || typeof message.seq !== 'number') return;
    actor.send({ type: 'assignment.message', message });
  }, {
    pendingMax: assignmentClientLimits.subscriptionPendingMax,
    onOverflow: (dropped) => logger.warn('assignments: relay messages dropped (the sequence gap makes the client relist)', { dropped }),
  });
  return {
    synced: () => tracker.synced(),
    async stop() {
      subscription.unsubscribe();
      actor.stop();
    },
  };
}
