/**
 * The horizontal pod autoscaler controller (`--controllers` name `horizontalpodautoscaling`, as
 * Kubernetes names it): every sync period each HPA reads its target's scale subresource, the
 * target's pods (informer) and their PodMetrics (`metrics.k8s.io/v1beta1`, served by the members
 * from the agents' reports), decides (autoscale-decision.ts), writes the scale when the count
 * changes, then `horizontalpodautoscalers/NAME/status`.
 *
 * Decision: an HPA is synced on its own timer (`requeueAfterMs` = the sync period), not on pod or
 * metrics events: metrics change every interval anyway, and Kubernetes' HPA is periodic by design
 * so its rate policies and stabilization windows see evenly spaced samples. Informer events
 * enqueue an HPA only when it is new or its spec changed (its own status writes must not retrigger
 * it).
 *
 * Decision: the recommendation history lives in this process's memory, per HPA, as in Kubernetes;
 * a new leader starts with none (it may then scale down without waiting out the window once, as
 * a restarted kube-controller-manager does).
 */
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { findByKind, parseApiVersion } from '../../apiserver/registry/resources.js';
import { objectKey, parseLabelSelector, splitKey, type KubeObject } from '../../objects/index.js';
import { ConflictError, LeadershipLostError } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, ReconcileResult, ResourceRef, WorkQueue } from '../runtime/types.js';
import { decideAutoscale, hpaStatusAfter, hpaStatusChanged, type AutoscaleSettings, type ScaleReading, type ScaleWrite } from './autoscale-decision.js';
import { emptyHistory, recordScale, type ScaleHistory } from './behavior.js';
import { podAutoscalerLimits } from './limits.js';
import type { MetricsReading } from './metric-replicas.js';
import type { PodMetricsItem } from './pod-metrics.js';

export const podMetricsRef: ResourceRef = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', namespaced: true };

interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** Histories by HPA key, per controller activation (the context is created once per activation). */
const histories = new WeakMap<ControllerContext, Map<string, ScaleHistory>>();
function historiesOf(ctx: ControllerContext): Map<string, ScaleHistory> {
  let map = histories.get(ctx);
  if (map === undefined) histories.set(ctx, (map = new Map()));
  return map;
}

const hpas = (ctx: ControllerContext) => ctx.informers.informer<KubeObject>(refs.horizontalpodautoscalers);
const pods = (ctx: ControllerContext) => ctx.informers.informer<KubeObject>(refs.pods);

function numberOption(ctx: ControllerContext, name: string, fallback: number): number {
  const value = ctx.options[name];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export function syncPeriodMs(ctx: ControllerContext): number {
  return numberOption(ctx, 'horizontalPodAutoscalerSyncPeriodMs', podAutoscalerLimits.syncPeriodMs) || podAutoscalerLimits.syncPeriodMs;
}

export function settingsOf(ctx: ControllerContext): AutoscaleSettings {
  return {
    tolerance: numberOption(ctx, 'horizontalPodAutoscalerTolerance', podAutoscalerLimits.tolerance),
    cpuInitializationPeriodMs: numberOption(ctx, 'horizontalPodAutoscalerCpuInitializationPeriodMs', podAutoscalerLimits.cpuInitializationPeriodMs),
    initialReadinessDelayMs: numberOption(ctx, 'horizontalPodAutoscalerInitialReadinessDelayMs', podAutoscalerLimits.initialReadinessDelayMs),
    downscaleStabilizationMs: numberOption(ctx, 'horizontalPodAutoscalerDownscaleStabilizationMs', podAutoscalerLimits.downscaleStabilizationMs),
  };
}

function watch(ctx: ControllerContext, queue: WorkQueue): () => void {
  // Pods are read from the cache at each sync; the informer must exist before the runtime waits for sync.
  pods(ctx);
  return hpas(ctx).addHandlers({
    onAdd: (hpa) => queue.add(objectKey(hpa)),
    onUpdate: (previous, hpa) => { if (previous.metadata.generation !== hpa.metadata.generation) queue.add(objectKey(hpa)); },
    onDelete: (hpa) => historiesOf(ctx).delete(objectKey(hpa)),
  });
}

/** The target's resource, when its kind has a scale subresource here. */
function targetResource(hpa: HorizontalPodAutoscaler): ResourceRef | string {
  const target = hpa.spec?.scaleTargetRef;
  const { group, version } = parseApiVersion(target?.apiVersion ?? '');
  const info = findByKind(group, version, target?.kind ?? '');
  if (info === undefined) return `no matches for kind "${target?.kind ?? ''}" in group "${group}"`;
  if (!info.subresources.includes('scale')) return `${info.resource} has no scale subresource`;
  return { group: info.group, version: info.version, resource: info.resource, namespaced: info.namespaced };
}

async function readScale(ctx: ControllerContext, hpa: HorizontalPodAutoscaler, namespace: string): Promise<{ reading: ScaleReading; scale?: Scale; ref?: ResourceRef }> {
  const ref = targetResource(hpa);
  if (typeof ref === 'string') return { reading: { kind: 'error', message: ref } };
  try {
    const scale = await ctx.api.get<Scale>(ref, namespace, hpa.spec?.scaleTargetRef.name ?? '', { subresource: 'scale' });
    const selector = scale.status?.selector ?? '';
    let selectorError: string | undefined;
    try { parseLabelSelector(selector); } catch (error) { selectorError = (error as Error).message; }
    return { reading: { kind: 'ok', replicas: scale.spec?.replicas ?? 0, selector, ...(selectorError !== undefined ? { selectorError } : {}) }, scale, ref };
  } catch (error) {
    return { reading: { kind: 'error', message: (error as Error).message } };
  }
}

async function readMetrics(ctx: ControllerContext, namespace: string, selector: string): Promise<MetricsReading> {
  try {
    const list = await ctx.api.list<PodMetricsItem>(podMetricsRef, { namespace, labelSelector: selector, limit: podAutoscalerLimits.podMetricsPageMax });
    return { kind: 'ok', items: list.items };
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
}

async function writeStatus(ctx: ControllerContext, hpa: HorizontalPodAutoscaler, status: HorizontalPodAutoscaler['status']): Promise<void> {
  const namespace = hpa.metadata?.namespace;
  const name = hpa.metadata?.name ?? '';
  try {
    await ctx.api.update(refs.horizontalpodautoscalers, namespace, name, { ...hpa, status }, { subresource: 'status' });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // The cache was behind (a spec edit, or our previous write not yet seen): put the status on the stored object.
    const fresh = await ctx.api.get<HorizontalPodAutoscaler>(refs.horizontalpodautoscalers, namespace, name);
    await ctx.api.update(refs.horizontalpodautoscalers, namespace, name, { ...fresh, status }, { subresource: 'status' });
  }
}

/**
 * One sync, then the next one a sync period later whatever happened: a failed sync is retried by
 * the next period (as Kubernetes' fixed-interval HPA queue does), never dropped after the
 * runtime's retries, which would leave the HPA unsynced until its spec changed.
 */
async function reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
  try {
    await sync(key, ctx);
  } catch (error) {
    if (error instanceof LeadershipLostError) throw error;
    ctx.logger.warn('hpa sync failed; trying again next period', { hpa: key, error });
  }
  return hpas(ctx).get(key) === undefined ? undefined : { requeueAfterMs: syncPeriodMs(ctx) };
}

async function sync(key: string, ctx: ControllerContext): Promise<void> {
  const cached = hpas(ctx).get(key);
  if (cached === undefined) { historiesOf(ctx).delete(key); return; }
  const hpa = cached as unknown as HorizontalPodAutoscaler;
  const namespace = splitKey(key).namespace ?? '';
  const { reading, scale, ref } = await readScale(ctx, hpa, namespace);
  const selected = reading.kind === 'ok' && reading.selector !== '' && reading.selectorError === undefined
    ? pods(ctx).matching(reading.selector, namespace) as unknown as Pod[] : [];
  const metrics: MetricsReading = reading.kind === 'ok' && reading.selector !== '' && reading.selectorError === undefined
    ? await readMetrics(ctx, namespace, reading.selector) : { kind: 'ok', items: [] };
  const history = historiesOf(ctx).get(key) ?? emptyHistory;
  const nowMs = ctx.clock.now();
  // Wall time: pods' startTime and condition transitions are RFC 3339 (ctx.clock is monotonic).
  const wallMs = Date.now();
  const decision = decideAutoscale({ hpa, scale: reading, pods: selected, metrics, nowMs, wallMs, history, settings: settingsOf(ctx) });
  for (const event of decision.events) ctx.events.record(cached, 'Warning', event.reason, event.message);
  let write: ScaleWrite = { kind: 'none' };
  let nextHistory = decision.history;
  if (decision.rescale && scale !== undefined && ref !== undefined) {
    try {
      await ctx.api.update(ref, namespace, scale.metadata.name ?? '', { ...scale, spec: { ...scale.spec, replicas: decision.desiredReplicas } }, { subresource: 'scale' });
      write = { kind: 'rescaled' };
      ctx.events.record(cached, 'Normal', 'SuccessfulRescale', `New size: ${decision.desiredReplicas}; reason: ${decision.reason}`);
      nextHistory = recordScale(nextHistory, { from: decision.currentReplicas ?? 0, to: decision.desiredReplicas, nowMs, behavior: decision.behavior });
    } catch (error) {
      const message = (error as Error).message;
      write = { kind: 'failed', message };
      ctx.events.record(cached, 'Warning', 'FailedRescale', `New size: ${decision.desiredReplicas}; reason: ${decision.reason}; error: ${message}`);
    }
  }
  historiesOf(ctx).set(key, nextHistory);
  const status = hpaStatusAfter(hpa, decision, write, wallMs);
  if (hpaStatusChanged(hpa.status, status)) await writeStatus(ctx, hpa, status);
  if (decision.failure !== undefined) ctx.logger.debug('hpa sync could not decide', { hpa: key, reason: decision.failure });
}

export const horizontalPodAutoscalerController: ControllerSpec = {
  name: 'horizontalpodautoscaling',
  workers: podAutoscalerLimits.workers,
  maxRetries: podAutoscalerLimits.maxRetries,
  resource: refs.horizontalpodautoscalers,
  watch,
  reconcile: (key, ctx) => reconcile(key, ctx),
};
