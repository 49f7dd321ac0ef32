/**
 * `spec.behavior` of an autoscaling/v2 HPA, as Kubernetes' controller applies it after the metrics
 * proposed a replica count (pkg/controller/podautoscaler, "normalizeDesiredReplicasWithBehaviors"):
 *
 * 1. stabilization: every sync's unstabilized recommendation is remembered; the count may rise
 *    only to the lowest recommendation of the scale-up window and fall only to the highest of the
 *    scale-down window (default windows: 0 s up, 300 s down), so a brief dip does not shed pods;
 * 2. rate: the scale events of each policy's period bound how far one sync may move (Pods: N
 *    pods, Percent: N % of the count at the period's start); selectPolicy Max takes the policy
 *    allowing the most change, Min the least, Disabled forbids that direction;
 * 3. min/max replicas clamp what is left, with the ScalingLimited reasons Kubernetes gives.
 *
 * Everything here is pure: the history is a value the caller keeps per HPA and passes back in.
 * Times are milliseconds of the caller's clock; only differences matter.
 */
import type { HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules } from 'kubernetes-types/autoscaling/v2.js';
import { defaultScaleDownPolicies, defaultScaleUpPolicies, podAutoscalerLimits } from './limits.js';

/** Rules with every default filled in. */
export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly HPAScalingPolicy[];
}

export interface ResolvedBehavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

export interface Recommendation {
  readonly replicas: number;
  readonly atMs: number;
}

export interface ScaleEvent {
  /** Pods added (scale-up list) or removed (scale-down list), always positive. */
  readonly change: number;
  readonly atMs: number;
  /** Older than the longest policy period: its slot may be reused. */
  readonly outdated: boolean;
}

/** What one HPA remembers between syncs. */
export interface ScaleHistory {
  readonly recommendations: readonly Recommendation[];
  readonly scaleUpEvents: readonly ScaleEvent[];
  readonly scaleDownEvents: readonly ScaleEvent[];
}

export const emptyHistory: ScaleHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

function selectPolicyOf(value: string | undefined): ScalingRules['selectPolicy'] {
  return value === 'Min' || value === 'Disabled' ? value : 'Max';
}

function rulesWithDefaults(given: HPAScalingRules | undefined, windowSeconds: number, policies: readonly HPAScalingPolicy[]): ScalingRules {
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? windowSeconds,
    selectPolicy: selectPolicyOf(given?.selectPolicy),
    policies: given?.policies !== undefined && given.policies.length > 0 ? given.policies : policies,
  };
}

/** The behavior with Kubernetes' defaults (its API defaults them; kubus fills them in here). */
export function resolveBehavior(behavior: HorizontalPodAutoscalerBehavior | undefined, downscaleStabilizationMs: number = podAutoscalerLimits.downscaleStabilizationMs): ResolvedBehavior {
  return {
    scaleUp: rulesWithDefaults(behavior?.scaleUp, 0, defaultScaleUpPolicies),
    scaleDown: rulesWithDefaults(behavior?.scaleDown, Math.round(downscaleStabilizationMs / 1000), defaultScaleDownPolicies),
  };
}

export interface Stabilized {
  readonly replicas: number;
  readonly reason: 'ScaleUpStabilized' | 'ScaleDownStabilized' | 'ReadyForNewScale';
  readonly message: string;
  readonly recommendations: readonly Recommendation[];
}

/**
 * The recommendation kept within the windows' bounds, and the history with this sync's
 * unstabilized recommendation recorded (in the slot of a sample older than both windows, if any).
 */
export function stabilize(args: { readonly current: number; readonly desired: number; readonly nowMs: number; readonly behavior: ResolvedBehavior; readonly recommendations: readonly Recommendation[] }): Stabilized {
  const upCutoffMs = args.nowMs - args.behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoffMs = args.nowMs - args.behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let upLimit = args.desired;
  let downLimit = args.desired;
  let oldIndex = -1;
  args.recommendations.forEach((rec, index) => {
    if (rec.atMs > upCutoffMs) upLimit = Math.min(upLimit, rec.replicas);
    if (rec.atMs > downCutoffMs) downLimit = Math.max(downLimit, rec.replicas);
    if (rec.atMs < upCutoffMs && rec.atMs < downCutoffMs) oldIndex = index;
  });
  let replicas = args.current;
  if (replicas < upLimit) replicas = upLimit;
  if (replicas > downLimit) replicas = downLimit;
  const sample = { replicas: args.desired, atMs: args.nowMs };
  const recommendations = [...args.recommendations];
  if (oldIndex >= 0) recommendations[oldIndex] = sample;
  else if (recommendations.length < podAutoscalerLimits.recommendationsPerHpaMax) recommendations.push(sample);
  else recommendations[indexOfOldest(recommendations)] = sample;
  if (replicas === args.desired) return { replicas, reason: 'ReadyForNewScale', message: 'recommended size matches current size', recommendations };
  return replicas < args.desired
    ? { replicas, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation', recommendations }
    : { replicas, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation', recommendations };
}

function indexOfOldest(list: readonly { readonly atMs: number }[]): number {
  let oldest = 0;
  list.forEach((item, index) => { if (item.atMs < (list[oldest]?.atMs ?? Infinity)) oldest = index; });
  return oldest;
}

/** Pods changed by the events of the last `periodSeconds`. */
function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoffMs = nowMs - periodSeconds * 1000;
  return events.reduce((sum, event) => (event.atMs > cutoffMs ? sum + event.change : sum), 0);
}

/** The highest count the scale-up rules allow now (the current count when scaling up is disabled). */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(events, policy.periodSeconds, nowMs);
    const proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The lowest count the scale-down rules allow now (the current count when scaling down is disabled). */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Max picks the policy allowing the most change, which for a lower bound is the smallest.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current + changeInPeriod(events, policy.periodSeconds, nowMs);
    const proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export interface RateLimited {
  readonly replicas: number;
  readonly reason: 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas' | 'DesiredWithinRange';
  readonly message: string;
}

/** The stabilized count bounded by the rate policies and by min/max replicas. */
export function limitRate(args: { readonly current: number; readonly desired: number; readonly minReplicas: number; readonly maxReplicas: number; readonly nowMs: number; readonly behavior: ResolvedBehavior; readonly history: ScaleHistory }): RateLimited {
  const { current, desired } = args;
  if (desired > current) {
    const rateLimit = Math.max(current, scaleUpLimit(current, args.history.scaleUpEvents, args.behavior.scaleUp, args.nowMs));
    const byRate = args.maxReplicas > rateLimit;
    const allowed = byRate ? rateLimit : args.maxReplicas;
    if (desired > allowed) {
      return byRate
        ? { replicas: allowed, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    }
  } else if (desired < current) {
    const rateLimit = Math.min(current, scaleDownLimit(current, args.history.scaleDownEvents, args.behavior.scaleDown, args.nowMs));
    const byRate = args.minReplicas < rateLimit;
    const allowed = byRate ? rateLimit : args.minReplicas;
    if (desired < allowed) {
      return byRate
        ? { replicas: allowed, reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    }
  }
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

function longestPeriodSeconds(rules: ScalingRules): number {
  return rules.policies.reduce((longest, policy) => Math.max(longest, policy.periodSeconds), 0);
}

function recordEvent(events: readonly ScaleEvent[], change: number, periodSeconds: number, nowMs: number): ScaleEvent[] {
  const cutoffMs = nowMs - periodSeconds * 1000;
  const marked = events.map((event) => (event.atMs <= cutoffMs && !event.outdated ? { ...event, outdated: true } : event));
  const fresh: ScaleEvent = { change, atMs: nowMs, outdated: false };
  const reusable = marked.findIndex((event) => event.outdated);
  if (reusable >= 0) marked[reusable] = fresh;
  else if (marked.length < podAutoscalerLimits.scaleEventsPerHpaMax) marked.push(fresh);
  else marked[indexOfOldest(marked)] = fresh;
  return marked;
}

/** The history after a rescale from `from` to `to` replicas (the rate policies count it). */
export function recordScale(history: ScaleHistory, args: { readonly from: number; readonly to: number; readonly nowMs: number; readonly behavior: ResolvedBehavior }): ScaleHistory {
  if (args.to > args.from) {
    return { ...history, scaleUpEvents: recordEvent(history.scaleUpEvents, args.to - args.from, longestPeriodSeconds(args.behavior.scaleUp), args.nowMs) };
  }
  if (args.to < args.from) {
    return { ...history, scaleDownEvents: recordEvent(history.scaleDownEvents, args.from - args.to, longestPeriodSeconds(args.behavior.scaleDown), args.nowMs) };
  }
  return history;
}
