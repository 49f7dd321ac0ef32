/** The horizontal pod autoscaler controller (autoscaling/v2) and its pure decisions. */
export { horizontalPodAutoscalerController, podMetricsRef, settingsOf, syncPeriodMs } from './hpa-controller.js';
export { decideAutoscale, hpaStatusAfter, hpaStatusChanged, type AutoscaleSettings, type Decision, type DecisionInputs, type ScaleReading, type ScaleWrite } from './autoscale-decision.js';
export {
  emptyHistory, limitRate, recordScale, resolveBehavior, scaleDownLimit, scaleUpLimit, stabilize,
  type Recommendation, type ResolvedBehavior, type ScaleEvent, type ScaleHistory, type ScalingRules,
} from './behavior.js';
export { defaultMetrics, metricSpecsOf, milliQuantity, replicasForMetrics, type HpaCondition, type MetricsOutcome, type MetricsReading, type WarningEvent } from './metric-replicas.js';
export { goDurationMs, podSamples, type PodMetricsItem } from './pod-metrics.js';
export { averageValueReplicas, groupPods, podRequests, utilizationReplicas, type CalculatorOptions, type PodMetric, type PodMetrics, type Proposal } from './replica-calculator.js';
export { defaultScaleDownPolicies, defaultScaleUpPolicies, podAutoscalerLimits } from './limits.js';
