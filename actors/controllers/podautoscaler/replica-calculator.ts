/**
 * The replica count one resource metric proposes, as Kubernetes' replica calculator computes it
 * (pkg/controller/podautoscaler/replica_calculator.go, read for its rules, not copied):
 *
 * - pods being deleted or Failed are ignored; Pending pods count as unready; a pod without a
 *   sample is "missing"; for CPU, a pod that is not ready, or is inside the CPU initialization
 *   period without a full metrics window since it became ready, is unready (start-up spikes);
 * - usageRatio = current / target (utilization against the pods' requests, or the average value);
 *   within the tolerance nothing changes, else desired = ceil(ratio × ready pods with samples);
 * - with missing or unready pods the ratio is computed again assuming the missing use 100 % of
 *   their request (or the target value) on a scale-down and 0 on a scale-up, and unready pods 0 on
 *   a scale-up; if that flips the direction or lands within the tolerance, nothing changes.
 *
 * Values are in milli-units (millicores, milli-bytes) and utilization truncates to an integer
 * percent, as Kubernetes' int64 arithmetic does, so the same inputs give the same answer.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { getCondition, isDeleting, parseQuantity } from '../../objects/index.js';

export interface PodMetric {
  /** Usage in milli-units (CPU millicores; memory bytes × 1000). */
  readonly valueMilli: number;
  /** Wall time of the sample and the window it averages, ms. */
  readonly timestampMs: number;
  readonly windowMs: number;
}

/** Samples by pod name (one namespace). */
export type PodMetrics = ReadonlyMap<string, PodMetric>;

export interface CalculatorOptions {
  readonly tolerance: number;
  readonly cpuInitializationPeriodMs: number;
  readonly initialReadinessDelayMs: number;
  /** Wall time now (pod start and transition times are wall times). */
  readonly nowMs: number;
}

export type Proposal =
  | { readonly kind: 'ok'; readonly replicas: number; readonly utilization?: number; readonly averageMilli: number; readonly timestampMs: number }
  | { readonly kind: 'error'; readonly message: string };

interface Grouped {
  readonly readyCount: number;
  readonly unready: ReadonlySet<string>;
  readonly missing: ReadonlySet<string>;
  readonly ignored: ReadonlySet<string>;
}

const timeMs = (value: string | undefined): number | undefined => {
  const parsed = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
};

function cpuUnready(pod: Pod, metric: PodMetric, options: CalculatorOptions): boolean {
  const ready = getCondition(pod.status?.conditions, 'Ready');
  const startMs = timeMs(pod.status?.startTime);
  if (ready === undefined || startMs === undefined) return true;
  const transitionMs = timeMs(ready.lastTransitionTime) ?? startMs;
  if (startMs + options.cpuInitializationPeriodMs > options.nowMs) {
    // Still initialising: the sample counts only once a whole window was measured after it became ready.
    return ready.status === 'False' || metric.timestampMs < transitionMs + metric.windowMs;
  }
  // Past initialisation: ignore a pod that is not ready and has never been ready.
  return ready.status === 'False' && startMs + options.initialReadinessDelayMs > transitionMs;
}

export function groupPods(pods: readonly Pod[], metrics: PodMetrics, resource: string, options: CalculatorOptions): Grouped {
  let readyCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (isDeleting(pod) || pod.status?.phase === 'Failed') { ignored.add(name); continue; }
    if (pod.status?.phase === 'Pending' || pod.status?.phase === undefined) { unready.add(name); continue; }
    const metric = metrics.get(name);
    if (metric === undefined) { missing.add(name); continue; }
    if (resource === 'cpu' && cpuUnready(pod, metric, options)) { unready.add(name); continue; }
    readyCount++;
  }
  return { readyCount, unready, missing, ignored };
}

export type RequestsResult = { readonly kind: 'ok'; readonly requests: ReadonlyMap<string, number> } | { readonly kind: 'error'; readonly message: string };

/** Each pod's request of `resource` in milli-units (one container's with `container`); an error names the first container without one. */
export function podRequests(pods: readonly Pod[], resource: string, container?: string): RequestsResult {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const containers: readonly Container[] = pod.spec?.containers ?? [];
    for (const c of containers) {
      if (container !== undefined && c.name !== container) continue;
      const value = parseQuantity(c.resources?.requests?.[resource]);
      if (value === undefined) return { kind: 'error', message: `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}` };
      sum += Math.round(value * 1000);
    }
    requests.set(pod.metadata?.name ?? '', sum);
  }
  return { kind: 'ok', requests };
}

type Ratio = { readonly kind: 'ok'; readonly ratio: number; readonly utilization: number; readonly averageMilli: number } | { readonly kind: 'error'; readonly message: string };

function utilizationRatio(metrics: PodMetrics, requests: ReadonlyMap<string, number>, target: number): Ratio {
  let usedMilli = 0;
  let requestedMilli = 0;
  let entries = 0;
  for (const [name, metric] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    usedMilli += metric.valueMilli;
    requestedMilli += request;
    entries++;
  }
  if (requestedMilli === 0) return { kind: 'error', message: 'no metrics returned matched known pods' };
  const utilization = Math.trunc((usedMilli * 100) / requestedMilli);
  return { kind: 'ok', ratio: utilization / target, utilization, averageMilli: Math.trunc(usedMilli / entries) };
}

function averageRatio(metrics: PodMetrics, targetMilli: number): Ratio {
  let usedMilli = 0;
  for (const metric of metrics.values()) usedMilli += metric.valueMilli;
  const averageMilli = Math.trunc(usedMilli / metrics.size);
  return { kind: 'ok', ratio: averageMilli / targetMilli, utilization: 0, averageMilli };
}

interface Common {
  readonly currentReplicas: number;
  readonly resource: string;
  readonly pods: readonly Pod[];
  readonly metrics: PodMetrics;
  readonly options: CalculatorOptions;
}

/**
 * The shared shape of both calculations: group, drop ignored and unready samples, compute the
 * ratio, and redo it with assumed values when pods are missing or unready.
 */
function propose(args: Common, ratioOf: (metrics: PodMetrics) => Ratio, assumeMissingOnScaleDown: (pod: string) => number, report: (ratio: Extract<Ratio, { kind: 'ok' }>) => { utilization?: number }): Proposal {
  if (args.metrics.size === 0) return { kind: 'error', message: `unable to get metrics for resource ${args.resource}: no metrics returned from resource metrics API` };
  if (args.pods.length === 0) return { kind: 'error', message: 'no pods returned by selector while calculating replica count' };
  const groups = groupPods(args.pods, args.metrics, args.resource, args.options);
  const selected = new Set(args.pods.map((pod) => pod.metadata?.name ?? ''));
  const usable = new Map([...args.metrics].filter(([name]) => selected.has(name) && !groups.ignored.has(name) && !groups.unready.has(name)));
  if (usable.size === 0) return { kind: 'error', message: 'did not receive metrics for targeted pods (pods might be unready)' };
  const first = ratioOf(usable);
  if (first.kind === 'error') return first;
  const timestampMs = Math.min(...[...usable.values()].map((m) => m.timestampMs));
  const answer = (replicas: number): Proposal => ({ kind: 'ok', replicas, averageMilli: first.averageMilli, timestampMs, ...report(first) });
  const { tolerance } = args.options;
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return answer(args.currentReplicas);
    return answer(Math.ceil(first.ratio * groups.readyCount));
  }
  const assumed = new Map(usable);
  const sample = (valueMilli: number): PodMetric => ({ valueMilli, timestampMs, windowMs: 0 });
  for (const name of groups.missing) {
    if (first.ratio < 1) assumed.set(name, sample(assumeMissingOnScaleDown(name)));
    else if (first.ratio > 1) assumed.set(name, sample(0));
  }
  if (scaleUpWithUnready) for (const name of groups.unready) assumed.set(name, sample(0));
  const second = ratioOf(assumed);
  if (second.kind === 'error') return second;
  if (Math.abs(1 - second.ratio) <= tolerance || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return answer(args.currentReplicas);
  const replicas = Math.ceil(second.ratio * assumed.size);
  if ((second.ratio < 1 && replicas > args.currentReplicas) || (second.ratio > 1 && replicas < args.currentReplicas)) return answer(args.currentReplicas);
  return answer(replicas);
}

/** A Utilization target: percent of the pods' requests (of one container's with `container`). */
export function utilizationReplicas(args: Common & { readonly targetUtilization: number; readonly container?: string }): Proposal {
  const requests = podRequests(args.pods, args.resource, args.container);
  if (requests.kind === 'error') return requests;
  // A missing pod on a scale-down is taken at its full request, or at the target when that is above 100 %.
  const fallbackPercent = Math.max(100, args.targetUtilization);
  return propose(args, (metrics) => utilizationRatio(metrics, requests.requests, args.targetUtilization),
    (pod) => Math.trunc(((requests.requests.get(pod) ?? 0) * fallbackPercent) / 100), (ratio) => ({ utilization: ratio.utilization }));
}

/** An AverageValue target (milli-units per pod). */
export function averageValueReplicas(args: Common & { readonly targetAverageMilli: number }): Proposal {
  return propose(args, (metrics) => averageRatio(metrics, args.targetAverageMilli), () => args.targetAverageMilli, () => ({}));
}
