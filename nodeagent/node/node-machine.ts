/**
 * The Node part as an XState machine:
 *
 *   registering ──(created or taken over)──▶ running ─┬─ lease:  renewing ⇄ waiting (interval, or a short retry after a failure)
 *        ▲  │                                          └─ status: passing  ⇄ waiting (every renew interval: measure, write when due)
 *        └──┘ (failed: retry after a bounded backoff)
 *   any ──(node.stop)──▶ stopped
 *
 * Nothing here crashes the agent: every failure is logged and retried; the Lease retries sooner
 * than its interval (node-lease.ts) so a few lost renews never let it expire.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Node } from 'kubernetes-types/core/v1.js';
import { nextLeaseDelayMs, type LeaseRenewer } from './node-lease.js';
import { gatherFacts, registerNode, statusPass, type NodeDeps, type StatusState } from './node-writes.js';
import type { NodeFacts } from './node-object.js';
import { isNotFound } from '../../actors/controllers/runtime/api-errors.js';

export const registerRetry = {
  /** First retry of a failed registration; doubles per failure... */
  firstDelayMs: 500,
  /** ...up to this: a control plane that comes back is noticed within it. */
  maxDelayMs: 10_000,
} as const;

export interface NodeMachineInput {
  readonly deps: NodeDeps;
  readonly lease: LeaseRenewer;
  /** Called once the Node is registered, and whenever a pass learns a newer Node (pod CIDR). */
  readonly onNode: (node: Node) => void;
}

interface Context {
  readonly input: NodeMachineInput;
  facts: NodeFacts | null;
  status: StatusState | null;
  registerFailures: number;
  leaseFailures: number;
  /** The Lease failed since the last status pass: read the Node (the control plane may have marked it). */
  leaseFailedSincePass: boolean;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const nodeMachine = setup({
  types: { context: {} as Context, input: {} as NodeMachineInput, events: {} as { type: 'node.stop' } },
  actors: {
    register: fromPromise<{ facts: NodeFacts; node: Node }, { deps: NodeDeps; facts: NodeFacts | null }>(async ({ input }) => {
      const facts = input.facts ?? (await gatherFacts(input.deps));
      return { facts, node: await registerNode(input.deps, facts) };
    }),
    renewLease: fromPromise<void, { lease: LeaseRenewer; node: Node | null }>(async ({ input }) => input.lease.renew(input.node)),
    pass: fromPromise<StatusState, { deps: NodeDeps; facts: NodeFacts; state: StatusState; mustRead: boolean }>(async ({ input }) =>
      statusPass(input.deps, input.facts, input.state, { mustRead: input.mustRead })),
  },
  delays: {
    registerRetry: ({ context }) => Math.min(registerRetry.firstDelayMs * 2 ** Math.min(context.registerFailures - 1, 16), registerRetry.maxDelayMs),
    leaseDelay: ({ context }) => nextLeaseDelayMs(context.leaseFailures, context.input.deps.config.leaseRenewIntervalMs),
    // Conditions are measured as often as the Lease is renewed (the kubelet's 10 s); writes are decided per pass.
    passDelay: ({ context }) => context.input.deps.config.leaseRenewIntervalMs,
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ input, facts: null, status: null, registerFailures: 0, leaseFailures: 0, leaseFailedSincePass: false }),
  on: { 'node.stop': '.stopped' },
  initial: 'registering',
  states: {
    registering: {
      invoke: {
        src: 'register',
        input: ({ context }) => ({ deps: context.input.deps, facts: context.facts }),
        onDone: {
          target: 'running',
          actions: [
            assign(({ event, context }) => ({ facts: event.output.facts, status: { node: event.output.node, lastReport: null, lastReadMs: context.input.deps.ctx.clock.now() }, registerFailures: 0 })),
            ({ context, event }) => context.input.onNode(event.output.node),
          ],
        },
        onError: {
          target: 'registerBackoff',
          actions: [
            assign({ registerFailures: ({ context }) => context.registerFailures + 1 }),
            ({ context, event }) => context.input.deps.ctx.logger.warn('registering the Node failed; retrying', { error: errorText(event.error), failures: context.registerFailures }),
          ],
        },
      },
    },
    registerBackoff: { after: { registerRetry: { target: 'registering', id: 'node.registerRetry' } } },
    running: {
      type: 'parallel',
      states: {
        lease: {
          initial: 'renewing',
          states: {
            renewing: {
              invoke: {
                src: 'renewLease',
                input: ({ context }) => ({ lease: context.input.lease, node: context.status?.node ?? null }),
                onDone: { target: 'waiting', actions: assign({ leaseFailures: 0 }) },
                onError: {
                  target: 'waiting',
                  actions: [
                    assign({ leaseFailures: ({ context }) => context.leaseFailures + 1, leaseFailedSincePass: true }),
                    ({ context, event }) => context.input.deps.ctx.logger.warn('renewing the node Lease failed; retrying sooner', { error: errorText(event.error), failures: context.leaseFailures }),
                  ],
                },
              },
            },
            waiting: { after: { leaseDelay: { target: 'renewing', id: 'node.leaseDelay' } } },
          },
        },
        status: {
          initial: 'passing',
          states: {
            passing: {
              invoke: {
                src: 'pass',
                input: ({ context }) => ({ deps: context.input.deps, facts: context.facts as NodeFacts, state: context.status as StatusState, mustRead: context.leaseFailedSincePass }),
                onDone: {
                  target: 'waiting',
                  actions: [
                    assign({ status: ({ event }) => event.output, leaseFailedSincePass: ({ context }) => context.leaseFailures > 0 }),
                    ({ context, event }) => context.input.onNode(event.output.node),
                  ],
                },
                onError: [
                  {
                    // The Node was deleted (`kubectl delete node`) while the agent lives: register again, as a kubelet does.
                    guard: ({ event }) => isNotFound(event.error),
                    target: '#node.registering',
                    actions: ({ context }) => context.input.deps.ctx.logger.warn('the Node is gone from the API; registering it again', { node: context.input.deps.ctx.nodeName }),
                  },
                  {
                    target: 'waiting',
                    actions: ({ context, event }) => context.input.deps.ctx.logger.warn('the node status pass failed; next pass at the renew interval', { error: errorText(event.error) }),
                  },
                ],
              },
            },
            waiting: { after: { passDelay: { target: 'passing', id: 'node.passDelay' } } },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
