/**
 * What a member accepts from the bus as a NodeMetricsReport (pure). The subject names the node
 * (NATS lets an agent publish only its own node's subject), so a report claiming another node is
 * refused; every number must be finite and non-negative, every pod bounded: a malformed or forged
 * report is dropped whole instead of serving half of it.
 */
import { metricsProtocolLimits, type NodeMetricsReport } from '../../../nodeagent/metrics/protocol.js';
import { metricsViewLimits } from './limits.js';

export type ReportCheck = { readonly ok: true; readonly report: NodeMetricsReport } | { readonly ok: false; readonly reason: string };

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 253;

/** `subjectNode`: the node token of the subject the report came on. */
export function checkReport(value: unknown, subjectNode: string): ReportCheck {
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an object' };
  const report = value as Partial<NodeMetricsReport>;
  if (report.v !== 1) return { ok: false, reason: `unknown report version ${String(report.v)}` };
  if (report.node !== subjectNode) return { ok: false, reason: `report names node ${String(report.node)} but came on node ${subjectNode}'s subject` };
  if (!isCount(report.timestampMs) || !isCount(report.windowMs) || report.windowMs === 0) return { ok: false, reason: 'bad timestamp or window' };
  if (typeof report.usage !== 'object' || report.usage === null || !isCount(report.usage.cpuNanoCores) || !isCount(report.usage.memoryWorkingSetBytes)) {
    return { ok: false, reason: 'bad node usage' };
  }
  if (!Array.isArray(report.pods) || report.pods.length > metricsProtocolLimits.podsPerReportMax) return { ok: false, reason: 'bad pod list' };
  for (const pod of report.pods as unknown[]) {
    const problem = podProblem(pod);
    if (problem !== null) return { ok: false, reason: problem };
  }
  return { ok: true, report: report as NodeMetricsReport };
}

function podProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'a pod is not an object';
  const pod = value as Record<string, unknown>;
  if (!isText(pod.namespace) || !isText(pod.name) || typeof pod.uid !== 'string') return 'a pod lacks its namespace, name or uid';
  const containers = pod.containers;
  if (!Array.isArray(containers) || containers.length > metricsViewLimits.containersPerPodMax) return `pod ${pod.namespace}/${pod.name}: bad container list`;
  for (const container of containers as unknown[]) {
    const c = (typeof container === 'object' && container !== null ? container : {}) as Record<string, unknown>;
    if (!isText(c.name) || !isCount(c.cpuNanoCores) || !isCount(c.memoryWorkingSetBytes)) return `pod ${pod.namespace}/${pod.name}: bad container usage`;
  }
  return null;
}
