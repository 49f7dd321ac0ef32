/**
 * The agent's stream server for exec, attach and port-forward (stream-protocol.ts).
 * (Stub: filled in by issue 13's agent streaming work.)
 */
import type { AgentContext } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';

export function startStreamServer(_ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>, _deps: { readonly runtime: ContainerRuntime }): { stop(): Promise<void> } {
  return { stop: async () => undefined };
}
