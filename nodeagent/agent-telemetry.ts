/**
 * The agent's Prometheus parts, for the composition root (agent.ts): its registry, the runtime
 * decorator, the pod tracker and the plain-HTTP `/metrics` server on `--metrics-address`.
 *
 * Decision: without an address (tests, hollow-node hosts running hundreds of agents in one
 * process) nothing is created: the runtime is returned as is and no registry collects. A port
 * already taken does not stop the agent (its pods matter more than its metrics): it is logged
 * and the agent runs without /metrics.
 */
import type { Clock } from '../bus/clock.js';
import type { Logger } from '../bus/logger.js';
import { createAgentTelemetry, startMetricsServer, type AgentTelemetry, type MetricsAddress, type RunningMetricsServer } from '../bus/telemetry/index.js';
import type { PodStatusSink } from './agent-context.js';
import type { AssignmentUpdate } from './assignment/protocol.js';
import { createPodTelemetry, type PodTelemetry } from './pod-telemetry.js';
import { instrumentRuntime } from './runtime/instrumented.js';
import type { ContainerRuntime } from './runtime/types.js';

export interface AgentTelemetryParts {
  /** Null when metrics are off. */
  readonly telemetry: AgentTelemetry | null;
  /** `http://<address>/metrics`, or null when not served. */
  readonly url: string | null;
  /** The runtime the agent's parts should use (timed when metrics are on). */
  instrument(runtime: ContainerRuntime): ContainerRuntime;
  /** Call with every assignment update before the pod manager applies it. */
  assigned(update: AssignmentUpdate): void;
  /** Wrap the kubelet's status sink (pod start latency, pods by phase). */
  observeStatus<T extends PodStatusSink>(sink: T): T;
  stop(): Promise<void>;
}

export async function startAgentTelemetry(
  ctx: { readonly nodeName: string; readonly clock: Clock; readonly logger: Logger },
  options: { readonly address: MetricsAddress | null | undefined },
): Promise<AgentTelemetryParts> {
  const address = options.address ?? null;
  if (address === null) {
    return { telemetry: null, url: null, instrument: (runtime) => runtime, assigned: () => undefined, observeStatus: (sink) => sink, stop: async () => undefined };
  }
  const telemetry = createAgentTelemetry();
  const pods: PodTelemetry = createPodTelemetry({ metrics: telemetry.pods, clock: ctx.clock });
  let server: RunningMetricsServer | null = null;
  try {
    server = await startMetricsServer(address, { telemetry, logger: ctx.logger });
  } catch (error) {
    ctx.logger.warn('the agent runs without /metrics', { error: (error as Error).message });
  }
  return {
    telemetry,
    url: server?.url ?? null,
    instrument: (runtime) => instrumentRuntime(runtime, { metrics: telemetry.runtime, clock: ctx.clock }),
    assigned: (update) => pods.assigned(update),
    observeStatus: (sink) => pods.observe(sink),
    stop: async () => {
      await server?.close();
    },
  };
}
