/**
 * One controller (a ControllerSpec) as an XState actor:
 *
 *   idle ──controller.start──▶ syncing ──synced──▶ ready ──controller.lead──▶ running ──controller.stop──▶ stopping ──▶ stopped
 *
 * `syncing` subscribes the spec to its informers (spec.watch) and waits until every informer it
 * asked for has synced, so no reconcile acts on a half-filled cache. A controller may be started
 * before its component leads (warming its caches while the Lease is about to expire); it
 * reconciles only after `controller.lead` (remembered if it comes while syncing). `running` invokes the
 * workers: N loops taking keys from the queue, one key per worker at a time. A thrown reconcile
 * is retried with the queue's backoff up to maxRetries, then recorded as a Warning Event
 * `ReconcileFailed` and dropped. `stopping` hands out no more keys and waits (bounded) for the
 * reconciles in flight.
 */
import { assign, emit, fromCallback, fromPromise, setup } from 'xstate';
import { splitKey, type KubeObject } from '../../objects/meta.js';
import { LeadershipLostError } from './api-errors.js';
import { runtimeLimits } from './limits.js';
import { kindOf } from './resource-refs.js';
import type { RateLimitedWorkQueue } from './work-queue.js';
import type { ControllerContext, ControllerSpec } from './types.js';

export interface ControllerActorInput {
  readonly spec: ControllerSpec;
  readonly ctx: ControllerContext;
  readonly queue: RateLimitedWorkQueue;
  readonly workers: number;
  readonly maxRetries: number;
  /** The object a give-up Event is about when the spec names no resource (the component's Lease). */
  readonly fallbackObject: KubeObject;
  readonly syncTimeoutMs?: number;
}

interface Context {
  readonly input: ControllerActorInput;
  /** spec.watch's cleanup; held in a box so the invoked subscriber and the exit action share it. */
  readonly subscription: { cleanup: (() => void) | null; subscribed: boolean };
  syncFailures: number;
  leading: boolean;
}

export type ControllerEvent = { type: 'controller.start' } | { type: 'controller.lead' } | { type: 'controller.stop' };
export type ControllerEmitted = { type: 'controller.running'; name: string } | { type: 'controller.stopped'; name: string };

/** Reconciles one key and decides what happens to it next. Never throws. */
export async function processKey(input: ControllerActorInput, key: string): Promise<void> {
  const { spec, ctx, queue } = input;
  try {
    const result = await spec.reconcile(key, ctx, queue);
    queue.forget(key);
    if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
  } catch (error) {
    if (error instanceof LeadershipLostError) return; // the term ended: the next leader reconciles it
    if (queue.numRequeues(key) < input.maxRetries) {
      ctx.logger.debug('reconcile failed; retrying', { controller: spec.name, key, retries: queue.numRequeues(key), error });
      queue.addRateLimited(key);
      return;
    }
    queue.forget(key);
    const message = `${spec.name} gave up on ${key} after ${input.maxRetries} retries: ${(error as Error)?.message ?? String(error)}`;
    ctx.logger.warn('reconcile failed; giving up', { controller: spec.name, key, error });
    ctx.events.record(giveUpObject(input, key), 'Warning', 'ReconcileFailed', message);
  }
}

function giveUpObject(input: ControllerActorInput, key: string): KubeObject {
  const resource = input.spec.resource;
  if (resource === undefined) return input.fallbackObject;
  const cached = input.ctx.informers.informer(resource).get(key);
  const { namespace, name } = splitKey(key);
  const apiVersion = resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
  if (cached !== undefined) return { ...cached, apiVersion, kind: kindOf(resource) };
  return { apiVersion, kind: kindOf(resource), metadata: { name, ...(namespace !== undefined ? { namespace } : {}) } };
}

export const controllerMachine = setup({
  types: {
    context: {} as Context,
    input: {} as ControllerActorInput,
    events: {} as ControllerEvent,
    emitted: {} as ControllerEmitted,
  },
  actors: {
    subscribeAndSync: fromPromise<void, Context>(async ({ input: context }) => {
      const { spec, ctx, queue } = context.input;
      if (!context.subscription.subscribed) {
        context.subscription.subscribed = true;
        context.subscription.cleanup = spec.watch(ctx, queue) ?? null;
      }
      await ctx.informers.waitForSync(context.input.syncTimeoutMs ?? runtimeLimits.informerSyncTimeoutMs);
    }),
    workers: fromCallback<ControllerEvent, ControllerActorInput>(({ input }) => {
      for (let worker = 0; worker < input.workers; worker++) {
        void (async () => {
          for (;;) {
            const key = await input.queue.get();
            if (key === null) return;
            try {
              await processKey(input, key);
            } finally {
              input.queue.done(key);
            }
          }
        })();
      }
      return () => input.queue.shutDown();
    }),
    drain: fromPromise<void, ControllerActorInput>(async ({ input }) => {
      input.queue.shutDown();
      const deadline = input.ctx.clock.now() + runtimeLimits.stopDrainMs;
      while (input.queue.inProgress() > 0 && input.ctx.clock.now() < deadline) {
        await new Promise<void>((resolve) => input.ctx.clock.setTimeout(resolve, 10));
      }
    }),
  },
  actions: {
    unsubscribe: ({ context }) => {
      try {
        context.subscription.cleanup?.();
      } catch (error) {
        context.input.ctx.logger.warn('controller cleanup threw', { controller: context.input.spec.name, error });
      }
      context.subscription.cleanup = null;
    },
  },
  delays: {
    syncRetry: ({ context }) => Math.min(10_000, 500 * 2 ** context.syncFailures),
  },
}).createMachine({
  id: 'controller',
  context: ({ input }) => ({ input, subscription: { cleanup: null, subscribed: false }, syncFailures: 0, leading: false }),
  initial: 'idle',
  on: { 'controller.stop': '.stopping' },
  states: {
    idle: { on: { 'controller.start': 'syncing', 'controller.lead': { actions: assign({ leading: true }) } } },
    syncing: {
      on: { 'controller.lead': { actions: assign({ leading: true }) } },
      invoke: {
        src: 'subscribeAndSync',
        input: ({ context }) => context,
        onDone: [{ guard: ({ context }) => context.leading, target: 'running' }, { target: 'ready' }],
        onError: {
          target: 'syncWait',
          actions: [
            assign({ syncFailures: ({ context }) => context.syncFailures + 1 }),
            ({ context, event }) => context.input.ctx.logger.warn('controller informers not synced; waiting', { controller: context.input.spec.name, error: event.error }),
          ],
        },
      },
    },
    syncWait: { on: { 'controller.lead': { actions: assign({ leading: true }) } }, after: { syncRetry: 'syncing' } },
    ready: { on: { 'controller.lead': { target: 'running', actions: assign({ leading: true }) } } },
    running: {
      entry: [
        ({ context }) => context.input.ctx.logger.info('controller running', { controller: context.input.spec.name, workers: context.input.workers }),
        emit(({ context }) => ({ type: 'controller.running' as const, name: context.input.spec.name })),
      ],
      invoke: { src: 'workers', input: ({ context }) => context.input },
    },
    stopping: {
      entry: 'unsubscribe',
      on: { 'controller.stop': {} },
      invoke: { src: 'drain', input: ({ context }) => context.input, onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final', entry: emit(({ context }) => ({ type: 'controller.stopped' as const, name: context.input.spec.name })) },
  },
});
