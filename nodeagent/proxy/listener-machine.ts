/**
 * One Service address the proxy serves, as an XState machine:
 *
 *   binding ──(bound)──────────────▶ serving ──(listener.stop)──▶ closing ──▶ stopped
 *      │  ▲
 *      │  └──(standbyRetry)── standby      (EADDRINUSE: another proxy on this host serves it)
 *      │  └──(unavailableRetry)── unavailable (the address cannot be bound here: logged once)
 *   any waiting state ──(listener.stop)──▶ stopped
 *
 * Decision: several agents on one host (`kubus up` runs two) all want the same ClusterIP:port.
 * The first to bind serves it; the others stand by and retry binding every `standbyRetryMs`, so
 * one takes over within that when the holder stops. They serve identical tables (the same
 * catalog), so which one holds the address does not matter to clients.
 */
import { assign, fromPromise, setup } from 'xstate';
import { errorCode, type BoundListener } from './listener-socket.js';
import type { ListenerSpec } from './listener-plan.js';

export type ListenerState = 'binding' | 'serving' | 'standby' | 'unavailable' | 'closing' | 'stopped';

export interface ListenerMachineInput {
  readonly spec: ListenerSpec;
  readonly bind: (spec: ListenerSpec, signal: AbortSignal) => Promise<BoundListener>;
  readonly standbyRetryMs: number;
  readonly unavailableRetryMs: number;
  /** Each state entered, with the bind error for standby and unavailable (logging, tests). */
  readonly onState: (spec: ListenerSpec, state: ListenerState, error?: unknown) => void;
}

interface Context {
  readonly input: ListenerMachineInput;
  bound: BoundListener | null;
}

export type ListenerEvent = { type: 'listener.stop' };

export const listenerMachine = setup({
  types: { context: {} as Context, input: {} as ListenerMachineInput, events: {} as ListenerEvent },
  actors: {
    bind: fromPromise<BoundListener, ListenerMachineInput>(({ input, signal }) => input.bind(input.spec, signal)),
    close: fromPromise<void, BoundListener | null>(async ({ input }) => input?.close()),
  },
  delays: {
    standbyRetry: ({ context }) => context.input.standbyRetryMs,
    unavailableRetry: ({ context }) => context.input.unavailableRetryMs,
  },
  guards: {
    addressInUse: ({ event }) => errorCode((event as { error?: unknown }).error) === 'EADDRINUSE',
  },
}).createMachine({
  id: 'listener',
  context: ({ input }) => ({ input, bound: null }),
  initial: 'binding',
  states: {
    binding: {
      entry: ({ context }) => context.input.onState(context.input.spec, 'binding'),
      invoke: {
        src: 'bind',
        input: ({ context }) => context.input,
        onDone: { target: 'serving', actions: assign({ bound: ({ event }) => event.output }) },
        onError: [
          { guard: 'addressInUse', target: 'standby', actions: ({ context, event }) => context.input.onState(context.input.spec, 'standby', event.error) },
          { target: 'unavailable', actions: ({ context, event }) => context.input.onState(context.input.spec, 'unavailable', event.error) },
        ],
      },
      on: { 'listener.stop': 'stopped' },
    },
    standby: {
      after: { standbyRetry: 'binding' },
      on: { 'listener.stop': 'stopped' },
    },
    unavailable: {
      after: { unavailableRetry: 'binding' },
      on: { 'listener.stop': 'stopped' },
    },
    serving: {
      entry: ({ context }) => context.input.onState(context.input.spec, 'serving'),
      on: { 'listener.stop': 'closing' },
    },
    closing: {
      invoke: { src: 'close', input: ({ context }) => context.bound, onDone: 'stopped', onError: 'stopped' },
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => context.input.onState(context.input.spec, 'stopped'),
    },
  },
});
