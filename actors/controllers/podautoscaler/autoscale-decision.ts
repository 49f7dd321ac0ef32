/**
 * One HPA sync's decision, a pure function of (hpa, the target's scale, its pods, their metrics,
 * now, the HPA's recommendation history), in Kubernetes' order (reconcileAutoscaler):
 *
 * - a target whose scale cannot be read: AbleToScale False FailedGetScale, nothing else changes;
 * - a target scaled to 0 while minReplicas > 0: autoscaling is off (ScalingActive False
 *   ScalingDisabled), as `kubectl scale --replicas=0` is how people pause an HPA;
 * - a count outside [minReplicas, maxReplicas] is brought back to the bound;
 * - otherwise the metrics propose a count (metric-replicas.ts), the behavior stabilizes it and
 *   bounds its rate (behavior.ts), and the scale changes when the result differs.
 *
 * The glue writes the scale, then the status from `hpaStatusAfter`, then records the rescale in
 * the history (`recordScale`) only when the write succeeded, so a failed write does not spend
 * the rate policies' budget.
 */
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { rfc3339Seconds, setCondition } from '../../objects/index.js';
import { limitRate, resolveBehavior, stabilize, type ResolvedBehavior, type ScaleHistory } from './behavior.js';
import { replicasForMetrics, type HpaCondition, type MetricsReading, type WarningEvent } from './metric-replicas.js';

export interface AutoscaleSettings {
  readonly tolerance: number;
  readonly cpuInitializationPeriodMs: number;
  readonly initialReadinessDelayMs: number;
  readonly downscaleStabilizationMs: number;
}

/** The target's Scale as read (spec.replicas and status.selector), or why it could not be. */
export type ScaleReading =
  | { readonly kind: 'ok'; readonly replicas: number; readonly selector: string; /** Why the selector does not parse, if it does not. */ readonly selectorError?: string }
  | { readonly kind: 'error'; readonly message: string };

export interface DecisionInputs {
  readonly hpa: HorizontalPodAutoscaler;
  readonly scale: ScaleReading;
  /** The pods the scale's selector selects in the HPA's namespace. */
  readonly pods: readonly Pod[];
  readonly metrics: MetricsReading;
  /** Monotonic time of the history's samples. */
  readonly nowMs: number;
  /** Wall time (pods' start and transition times, status timestamps). */
  readonly wallMs: number;
  readonly history: ScaleHistory;
  readonly settings: AutoscaleSettings;
}

export interface Decision {
  /** The scale's replicas; undefined when the scale could not be read. */
  readonly currentReplicas?: number;
  readonly desiredReplicas: number;
  readonly rescale: boolean;
  /** Why the count changes (the SuccessfulRescale event's reason). */
  readonly reason: string;
  /** Conditions in the order Kubernetes sets them (a later one of the same type wins). */
  readonly conditions: readonly HpaCondition[];
  /** undefined: keep the stored currentMetrics. */
  readonly currentMetrics?: MetricStatus[];
  readonly events: readonly WarningEvent[];
  readonly history: ScaleHistory;
  readonly behavior: ResolvedBehavior;
  /** Set when the sync could not decide (the desired count stays as stored). */
  readonly failure?: string;
}

const minReplicasOf = (hpa: HorizontalPodAutoscaler): number => hpa.spec?.minReplicas ?? 1;

export function decideAutoscale(inputs: DecisionInputs): Decision {
  const { hpa, history } = inputs;
  const behavior = resolveBehavior(hpa.spec?.behavior, inputs.settings.downscaleStabilizationMs);
  const storedDesired = hpa.status?.desiredReplicas ?? 0;
  if (inputs.scale.kind === 'error') {
    const message = `the HPA controller was unable to get the target's current scale: ${inputs.scale.message}`;
    return {
      desiredReplicas: storedDesired, rescale: false, reason: '', history, behavior, failure: message,
      conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message }],
      events: [{ reason: 'FailedGetScale', message: inputs.scale.message }],
    };
  }
  const current = inputs.scale.replicas;
  const minReplicas = minReplicasOf(hpa);
  const maxReplicas = hpa.spec?.maxReplicas ?? minReplicas;
  const conditions: HpaCondition[] = [{ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" }];
  const base = { currentReplicas: current, conditions, history, behavior };
  if (current === 0 && minReplicas !== 0) {
    conditions.push({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    return { ...base, desiredReplicas: 0, rescale: false, reason: '', events: [], currentMetrics: [] };
  }
  if (current > maxReplicas) return { ...base, desiredReplicas: maxReplicas, rescale: true, reason: 'Current number of replicas above Spec.MaxReplicas', events: [] };
  if (current < minReplicas) return { ...base, desiredReplicas: minReplicas, rescale: true, reason: 'Current number of replicas below Spec.MinReplicas', events: [] };
  const selectorProblem = invalidSelector(inputs.scale);
  if (selectorProblem !== undefined) {
    conditions.push(selectorProblem.condition);
    return { ...base, desiredReplicas: storedDesired, rescale: false, reason: '', events: [selectorProblem.event], failure: selectorProblem.event.message };
  }
  const outcome = replicasForMetrics(hpa, {
    currentReplicas: current, pods: inputs.pods, metrics: inputs.metrics,
    options: { tolerance: inputs.settings.tolerance, cpuInitializationPeriodMs: inputs.settings.cpuInitializationPeriodMs, initialReadinessDelayMs: inputs.settings.initialReadinessDelayMs, nowMs: inputs.wallMs },
  });
  conditions.push(outcome.condition);
  if (outcome.kind === 'invalid') {
    return {
      ...base, desiredReplicas: storedDesired, rescale: false, reason: '', currentMetrics: outcome.statuses, failure: outcome.message,
      events: [...outcome.events, { reason: 'FailedComputeMetricsReplicas', message: outcome.message }],
    };
  }
  const proposed = Math.max(outcome.replicas, 0);
  const reason = proposed > current ? `${outcome.metricName} above target` : proposed < current ? 'All metrics below target' : '';
  const stabilized = stabilize({ current, desired: proposed, nowMs: inputs.nowMs, behavior, recommendations: history.recommendations });
  conditions.push({ type: 'AbleToScale', status: 'True', reason: stabilized.reason, message: stabilized.message });
  const limited = limitRate({ current, desired: stabilized.replicas, minReplicas, maxReplicas, nowMs: inputs.nowMs, behavior, history });
  conditions.push({ type: 'ScalingLimited', status: limited.replicas === stabilized.replicas ? 'False' : 'True', reason: limited.reason, message: limited.message });
  return {
    ...base, desiredReplicas: limited.replicas, rescale: limited.replicas !== current, reason, currentMetrics: outcome.statuses, events: outcome.events,
    history: { ...history, recommendations: stabilized.recommendations },
  };
}

/** Kubernetes refuses to guess the pods of a scale without a usable selector. */
function invalidSelector(scale: Extract<ScaleReading, { kind: 'ok' }>): { condition: HpaCondition; event: WarningEvent } | undefined {
  if (scale.selector === '') {
    return { condition: { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" }, event: { reason: 'SelectorRequired', message: 'selector is required' } };
  }
  if (scale.selectorError !== undefined) {
    const message = `couldn't convert selector into a corresponding internal selector object: ${scale.selectorError}`;
    return { condition: { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message }, event: { reason: 'InvalidSelector', message } };
  }
  return undefined;
}

/** How the scale write went. */
export type ScaleWrite = { readonly kind: 'none' } | { readonly kind: 'rescaled' } | { readonly kind: 'failed'; readonly message: string };

/** The status to store after the decision and the scale write (conditions keep their transition times). */
export function hpaStatusAfter(hpa: HorizontalPodAutoscaler, decision: Decision, write: ScaleWrite, wallMs: number): HorizontalPodAutoscalerStatus {
  const now = rfc3339Seconds(wallMs);
  const previous = hpa.status;
  const conditions: HpaCondition[] = [...decision.conditions];
  if (write.kind === 'rescaled') {
    conditions.push({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${decision.desiredReplicas}` });
  } else if (write.kind === 'failed') {
    conditions.push({ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${write.message}` });
  }
  let merged: HorizontalPodAutoscalerCondition[] = previous?.conditions ?? [];
  for (const condition of conditions) merged = setCondition(merged, { ...condition }, now);
  const desiredReplicas = write.kind === 'rescaled' || (decision.failure === undefined && write.kind === 'none') ? decision.desiredReplicas : previous?.desiredReplicas ?? 0;
  const currentReplicas = decision.currentReplicas ?? previous?.currentReplicas;
  const currentMetrics = decision.currentMetrics ?? previous?.currentMetrics;
  const lastScaleTime = write.kind === 'rescaled' ? now : previous?.lastScaleTime;
  const generation = hpa.metadata?.generation;
  return {
    ...(currentReplicas !== undefined ? { currentReplicas } : {}),
    desiredReplicas,
    ...(currentMetrics !== undefined && currentMetrics.length > 0 ? { currentMetrics } : {}),
    ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: merged,
  };
}

/** Whether writing `next` changes what is stored (the HPA's own status writes must not loop). */
export function hpaStatusChanged(current: HorizontalPodAutoscalerStatus | undefined, next: HorizontalPodAutoscalerStatus): boolean {
  return JSON.stringify(normalize(current)) !== JSON.stringify(normalize(next));
}

function normalize(status: HorizontalPodAutoscalerStatus | undefined): unknown {
  if (status === undefined) return null;
  const conditions = (status.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '', c.lastTransitionTime ?? '']).sort();
  return [status.currentReplicas ?? null, status.desiredReplicas, status.currentMetrics ?? [], status.lastScaleTime ?? null, status.observedGeneration ?? null, conditions];
}
