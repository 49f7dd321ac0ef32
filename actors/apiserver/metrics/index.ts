/**
 * The members' side of metrics.k8s.io/v1beta1: the view of the agents' reports and the handlers
 * that serve it (NodeMetrics, PodMetrics) for `kubectl top` and the horizontal pod autoscaler.
 */
export { metricsResources, isMetricsResource, metricsGroup, metricsVersion, metricsApiVersion } from './resources.js';
export { MetricsView, type MetricsSource, type PodSample } from './metrics-view.js';
export { startMetricsView, type RunningMetricsView } from './metrics-subscriber.js';
export { serveMetrics } from './metrics-handlers.js';
export { checkReport } from './report-check.js';
export { formatCpu, formatMemory, formatWindow, nodeMetricsObject, podMetricsObject } from './metrics-shapes.js';
export { metricsViewLimits } from './limits.js';
export { metricsTable, cpuCell, memoryCell } from './metrics-table.js';
