/**
 * The NATS tunnel between agents (issue 12 §2, types.ts is the contract): the dialer opens streams
 * to another node's agent, the server accepts them and connects to its own pods.
 */
import type { AgentContext } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { PodNetworks, TunnelDialer } from './types.js';

export * from './types.js';

/** STUB (issue 12, H3 replaces): accepts nothing. */
export function startTunnelServer(_ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>, _deps: { readonly runtime: ContainerRuntime }): { stop(): Promise<void> } {
  return { stop: async () => undefined };
}

/** STUB (issue 12, H3 replaces). */
export function createTunnelDialer(_ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>): TunnelDialer {
  return { dial: async (target) => { throw new Error(`the NATS tunnel to node ${target.node} is not built yet`); } };
}

/** STUB (issue 12, H3 replaces): every node counts as on this node's pod network. */
export function startPodNetworks(_ctx: Pick<AgentContext, 'api' | 'clock' | 'logger' | 'nodeName'>, self: string): PodNetworks & { stop(): void } {
  return { self, of: () => self, stop: () => undefined };
}
