/**
 * The replica count an HPA's metrics ask for (Kubernetes' computeReplicasForMetrics): each metric
 * proposes a count, the largest wins, and its name becomes the rescale reason. A metric that
 * cannot be computed is invalid: when every metric is invalid, or some are and the valid ones
 * would scale down (the invalid one might have wanted more), nothing is decided and ScalingActive
 * turns False with that metric's reason.
 *
 * kubus serves resource metrics only (metrics.k8s.io): Pods, Object and External metrics need a
 * custom or external metrics API and are reported invalid the way Kubernetes reports an
 * unavailable one.
 */
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../objects/index.js';
import { podSamples, type PodMetricsItem } from './pod-metrics.js';
import { averageValueReplicas, utilizationReplicas, type CalculatorOptions, type Proposal } from './replica-calculator.js';

/** What the autoscaler found at the metrics API: the PodMetrics of the target's pods, or why not. */
export type MetricsReading = { readonly kind: 'ok'; readonly items: readonly PodMetricsItem[] } | { readonly kind: 'error'; readonly message: string };

export interface HpaCondition {
  readonly type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export interface WarningEvent {
  readonly reason: string;
  readonly message: string;
}

export type MetricsOutcome =
  | { readonly kind: 'ok'; readonly replicas: number; readonly metricName: string; readonly statuses: MetricStatus[]; readonly condition: HpaCondition; readonly events: WarningEvent[] }
  | { readonly kind: 'invalid'; readonly statuses: MetricStatus[]; readonly condition: HpaCondition; readonly message: string; readonly events: WarningEvent[] };

/** autoscaling/v2 defaulting: no metrics means 80 % CPU utilization. */
export const defaultMetrics: readonly MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

export function metricSpecsOf(hpa: HorizontalPodAutoscaler): readonly MetricSpec[] {
  const given = hpa.spec?.metrics ?? [];
  return given.length > 0 ? given : defaultMetrics;
}

/** A milli-unit count as a Quantity, as resource.NewMilliQuantity prints it (`250m`, `2`). */
export function milliQuantity(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

type One = { readonly kind: 'ok'; readonly replicas: number; readonly name: string; readonly status: MetricStatus } | { readonly kind: 'invalid'; readonly reason: string; readonly message: string };

interface Inputs {
  readonly currentReplicas: number;
  readonly pods: readonly Pod[];
  readonly metrics: MetricsReading;
  readonly options: CalculatorOptions;
}

function resourceMetric(inputs: Inputs, spec: { readonly name: string; readonly target: MetricTarget; readonly container?: string }): One {
  const container = spec.container;
  const reason = container !== undefined ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
  const resource = spec.name;
  const fail = (what: string, message: string): One => ({ kind: 'invalid', reason, message: `failed to get ${resource} ${container !== undefined ? 'container ' : ''}resource metric value: failed to get ${resource} ${what}: ${message}` });
  const samples = inputs.metrics.kind === 'ok' ? podSamples(inputs.metrics.items, resource, container) : new Map();
  if (inputs.metrics.kind === 'error') return fail(spec.target.averageValue !== undefined ? 'usage' : 'utilization', `unable to get metrics for resource ${resource}: ${inputs.metrics.message}`);
  const common = { currentReplicas: inputs.currentReplicas, resource, pods: inputs.pods, metrics: samples, options: inputs.options };
  const typeWord = container !== undefined ? `${resource} container resource` : `${resource} resource`;
  const statusOf = (current: Record<string, unknown>): MetricStatus => (container !== undefined
    ? { type: 'ContainerResource', containerResource: { name: resource, container, current } }
    : { type: 'Resource', resource: { name: resource, current } });
  if (spec.target.averageValue !== undefined) {
    const targetMilli = parseQuantity(spec.target.averageValue);
    if (targetMilli === undefined || targetMilli <= 0) return fail('usage', `invalid averageValue target ${String(spec.target.averageValue)}`);
    const proposal: Proposal = averageValueReplicas({ ...common, targetAverageMilli: Math.round(targetMilli * 1000) });
    if (proposal.kind === 'error') return fail('usage', proposal.message);
    return { kind: 'ok', replicas: proposal.replicas, name: typeWord, status: statusOf({ averageValue: milliQuantity(proposal.averageMilli) }) };
  }
  const target = spec.target.averageUtilization;
  if (target === undefined) {
    return { kind: 'invalid', reason, message: 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set' };
  }
  const proposal = utilizationReplicas({ ...common, targetUtilization: target, ...(container !== undefined ? { container } : {}) });
  if (proposal.kind === 'error') return fail('utilization', proposal.message);
  return {
    kind: 'ok', replicas: proposal.replicas, name: `${typeWord} utilization (percentage of request)`,
    status: statusOf({ averageValue: milliQuantity(proposal.averageMilli), averageUtilization: proposal.utilization ?? 0 }),
  };
}

function oneMetric(inputs: Inputs, spec: MetricSpec): One {
  switch (spec.type) {
    case 'Resource':
      if (spec.resource === undefined) return { kind: 'invalid', reason: 'FailedGetResourceMetric', message: 'invalid resource metric source: no resource given' };
      return resourceMetric(inputs, spec.resource);
    case 'ContainerResource':
      if (spec.containerResource === undefined) return { kind: 'invalid', reason: 'FailedGetContainerResourceMetric', message: 'invalid container resource metric source: no resource given' };
      return resourceMetric(inputs, spec.containerResource);
    case 'Pods':
    case 'Object':
    case 'External': {
      const name = spec.pods?.metric.name ?? spec.object?.metric.name ?? spec.external?.metric.name ?? '';
      const api = spec.type === 'External' ? 'external.metrics.k8s.io' : 'custom.metrics.k8s.io';
      return { kind: 'invalid', reason: `FailedGet${spec.type}Metric`, message: `unable to get metric ${name}: ${api} is not served by this cluster (kubus serves resource metrics only)` };
    }
    default:
      return { kind: 'invalid', reason: 'InvalidMetricSourceType', message: `unknown metric source type "${spec.type}"` };
  }
}

export function replicasForMetrics(hpa: HorizontalPodAutoscaler, inputs: Inputs): MetricsOutcome {
  const specs = metricSpecsOf(hpa);
  const statuses: MetricStatus[] = [];
  const events: WarningEvent[] = [];
  let replicas = 0;
  let metricName = '';
  let invalidCount = 0;
  let firstInvalid: Extract<One, { kind: 'invalid' }> | undefined;
  for (const spec of specs) {
    const one = oneMetric(inputs, spec);
    if (one.kind === 'invalid') {
      invalidCount++;
      firstInvalid ??= one;
      events.push({ reason: one.reason, message: one.message });
      continue;
    }
    statuses.push(one.status);
    if (metricName === '' || one.replicas > replicas) {
      replicas = one.replicas;
      metricName = one.name;
    }
  }
  if (firstInvalid !== undefined && (invalidCount >= specs.length || replicas < inputs.currentReplicas)) {
    return {
      kind: 'invalid', statuses, events,
      condition: { type: 'ScalingActive', status: 'False', reason: firstInvalid.reason, message: `the HPA was unable to compute the replica count: ${firstInvalid.message}` },
      message: `invalid metrics (${invalidCount} invalid out of ${specs.length}), first error is: ${firstInvalid.message}`,
    };
  }
  return {
    kind: 'ok', replicas, metricName, statuses, events,
    condition: { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${metricName}` },
  };
}
