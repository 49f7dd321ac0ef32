/**
 * The agent's metrics: collection (runtime stats, host /proc), CPU rates, and the publisher of the
 * NodeMetricsReport (protocol.ts) members serve as metrics.k8s.io.
 */
export * from './protocol.js';
export { startMetricsPublisher, type MetricsPublisherOptions } from './publisher.js';
export { buildReport, emptyCollectorMemory, type Collection, type CollectorMemory, type ContainerReading, type BuiltReport } from './report-builder.js';
export { cpuRateNanoCores, type CumulativeCpu } from './cpu-rate.js';
export { parseProcStatCpu, hostMemoryWorkingSet, readHostUsage, type HostUsage } from './host-usage.js';
export { metricsCollectorLimits } from './limits.js';
