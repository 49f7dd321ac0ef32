/**
 * A process's Prometheus registry and the metric groups it serves. The composition root (member:
 * actors/server.ts; agent: nodeagent/agent.ts) makes one and hands the groups to the parts that
 * observe; `/metrics` renders it.
 *
 * Decision: prom-client lives behind this folder only (STYLE.md rule 15); the store and the
 * kubelet take plain observer interfaces (store/telemetry.ts, nodeagent/pod-telemetry.ts) so the
 * deterministic simulation never loads it.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  defineApiMetrics, definePodMetrics, defineRuntimeMetrics, defineStoreMetrics,
  type ApiMetrics, type PodMetrics, type RuntimeMetrics, type StoreMetrics,
} from './definitions.js';
import { checkTelemetryLimits } from './limits.js';

export interface TelemetryOptions {
  /** Labels on every series (e.g. `{ member: 'm1' }`); Prometheus adds `instance` itself. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The Node.js process metrics (CPU, memory, event loop lag, handles); default on. */
  readonly processMetrics?: boolean;
}

export interface Telemetry {
  readonly registry: Registry;
  /** The exposition text and its content type (Prometheus text format 0.0.4). */
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export interface MemberTelemetry extends Telemetry {
  readonly api: ApiMetrics;
  readonly store: StoreMetrics;
}

export interface AgentTelemetry extends Telemetry {
  readonly runtime: RuntimeMetrics;
  readonly pods: PodMetrics;
}

function baseTelemetry(options: TelemetryOptions): Telemetry {
  checkTelemetryLimits();
  const registry = new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels({ ...options.labels });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export function createMemberTelemetry(options: TelemetryOptions = {}): MemberTelemetry {
  const base = baseTelemetry(options);
  return { ...base, api: defineApiMetrics(base.registry), store: defineStoreMetrics(base.registry) };
}

export function createAgentTelemetry(options: TelemetryOptions = {}): AgentTelemetry {
  const base = baseTelemetry(options);
  return { ...base, runtime: defineRuntimeMetrics(base.registry), pods: definePodMetrics(base.registry) };
}
