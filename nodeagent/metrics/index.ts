/**
 * The agent's metrics publisher (protocol.ts). (Stub: filled in by issue 13's metrics work.)
 */
import type { AgentContext } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';

export * from './protocol.js';

export interface MetricsPublisherOptions {
  /** Default metricsProtocolLimits.intervalMs; tests use less. */
  readonly intervalMs?: number;
}

export function startMetricsPublisher(_ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'wallClock' | 'logger'>, _deps: { readonly runtime: ContainerRuntime; readonly options?: MetricsPublisherOptions }): { stop(): Promise<void> } {
  return { stop: async () => undefined };
}
