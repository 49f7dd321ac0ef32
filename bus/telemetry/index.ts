/**
 * Prometheus telemetry (issue 13): the per-process registry, every metric definition, the agent's
 * plain-HTTP /metrics server and the `--metrics-address` parser. Import from here; this surface is
 * kept out of bus/index.ts so processes that serve no metrics (the simulation) never load prom-client.
 */
export { createMemberTelemetry, createAgentTelemetry, type Telemetry, type TelemetryOptions, type MemberTelemetry, type AgentTelemetry } from './telemetry.js';
export {
  defineApiMetrics, defineStoreMetrics, defineRuntimeMetrics, definePodMetrics, apiRequestLabels,
  type ApiMetrics, type StoreMetrics, type RuntimeMetrics, type PodMetrics, type ApiRequestLabel, type ApiLatencyLabel,
} from './definitions.js';
export { startMetricsServer, type RunningMetricsServer } from './metrics-server.js';
export { parseMetricsAddress, defaultMetricsPort, type MetricsAddress } from './metrics-address.js';
export { InvalidMetricsAddressError, MetricsServerListenError } from './errors.js';
export { telemetryLimits, checkTelemetryLimits } from './limits.js';
export { storeObserver } from './store-observer.js';
