/**
 * The disruption controller: keeps each PodDisruptionBudget's status (currentHealthy,
 * desiredHealthy, expectedPods, disruptionsAllowed, disruptedPods, observedGeneration and the
 * DisruptionAllowed condition) computed from the pods it selects, so the eviction subresource
 * can spend disruptions against it. Decisions are in budget-status.ts; this file reads the
 * informers and writes the status.
 *
 * Decision: the status is written with a full update carrying the cached resourceVersion, not a
 * patch: an eviction that spent a disruption in between makes the write fail with 409 and the
 * budget is computed again from fresh state (the runtime retries), so a spent disruption is never
 * handed out twice by a stale status.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { budgetSelectsPod, controllerOf, objectKey, splitKey, type KubeObject } from '../../objects/index.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, ReconcileResult, ResourceRef, WorkQueue } from '../runtime/types.js';
import { budgetStatusChanged, computeBudgetStatus, type PodController } from './budget-status.js';
import { disruptionLimits } from './limits.js';

/** A shared informer read as the `kubernetes-types` shape it caches (the runtime holds loose KubeObjects). */
interface TypedView<T> {
  get(key: string): T | undefined;
  byIndex(index: string, value: string): T[];
  addHandlers(handlers: { onAdd?(object: T): void; onUpdate?(previous: T, next: T): void; onDelete?(object: T): void }): () => void;
}
const view = <T>(ctx: ControllerContext, ref: ResourceRef): TypedView<T> => ctx.informers.informer(ref) as unknown as TypedView<T>;
const budgets = (ctx: ControllerContext) => view<PodDisruptionBudget>(ctx, refs.poddisruptionbudgets);
const pods = (ctx: ControllerContext) => view<Pod>(ctx, refs.pods);
const replicaSets = (ctx: ControllerContext) => view<ReplicaSet>(ctx, refs.replicasets);
const deployments = (ctx: ControllerContext) => view<Deployment>(ctx, refs.deployments);

/** Every budget of the pod's namespace that selects it. */
function enqueueBudgetsOf(ctx: ControllerContext, queue: WorkQueue, pod: Pod): void {
  for (const budget of budgets(ctx).byIndex('namespace', pod.metadata?.namespace ?? '')) {
    if (budgetSelectsPod(budget, pod)) queue.add(objectKey(budget));
  }
}

function enqueueNamespace(ctx: ControllerContext, queue: WorkQueue, object: { metadata?: { namespace?: string } }): void {
  for (const budget of budgets(ctx).byIndex('namespace', object.metadata?.namespace ?? '')) queue.add(objectKey(budget));
}

/**
 * A pod's controller and its replicas, as Kubernetes' finders resolve it: a ReplicaSet owned by a
 * Deployment counts as the Deployment; a controller that no longer exists (or is another object of
 * the same name) is missing; a kind without a scale known here is missing too.
 */
function podController(ctx: ControllerContext, pod: Pod): PodController {
  const ref = controllerOf(pod);
  if (ref === undefined) return { kind: 'unmanaged' };
  const namespace = pod.metadata?.namespace ?? '';
  if (ref.kind !== 'ReplicaSet') return { kind: 'missing' };
  const rs = replicaSets(ctx).get(`${namespace}/${ref.name}`);
  if (rs === undefined || rs.metadata?.uid !== ref.uid) return { kind: 'missing' };
  const owner = controllerOf(rs);
  if (owner?.kind === 'Deployment') {
    const deployment = deployments(ctx).get(`${namespace}/${owner.name}`);
    if (deployment === undefined || deployment.metadata?.uid !== owner.uid) return { kind: 'missing' };
    return { kind: 'scaled', uid: owner.uid, replicas: deployment.spec?.replicas ?? 1 };
  }
  return { kind: 'scaled', uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
}

function watch(ctx: ControllerContext, queue: WorkQueue): () => void {
  const stops = [
    budgets(ctx).addHandlers({
      onAdd: (b) => queue.add(objectKey(b)),
      onUpdate: (_previous, b) => queue.add(objectKey(b)),
      onDelete: (b) => queue.add(objectKey(b)),
    }),
    pods(ctx).addHandlers({
      onAdd: (pod) => enqueueBudgetsOf(ctx, queue, pod),
      // Both the old and the new labels: a pod relabelled out of a budget leaves it.
      onUpdate: (previous, pod) => { enqueueBudgetsOf(ctx, queue, previous); enqueueBudgetsOf(ctx, queue, pod); },
      onDelete: (pod) => enqueueBudgetsOf(ctx, queue, pod),
    }),
    // A controller's replicas are the expected pods of percent and maxUnavailable budgets.
    ...[view<KubeObject>(ctx, refs.replicasets), view<KubeObject>(ctx, refs.deployments)].map((scaled) => scaled.addHandlers({
      onAdd: (o) => enqueueNamespace(ctx, queue, o),
      onUpdate: (_p, o) => enqueueNamespace(ctx, queue, o),
      onDelete: (o) => enqueueNamespace(ctx, queue, o),
    })),
  ];
  return () => { for (const stop of stops) stop(); };
}

async function reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
  const budget = budgets(ctx).get(key);
  if (budget === undefined) return;
  const { namespace } = splitKey(key);
  const selected = pods(ctx).byIndex('namespace', namespace ?? '').filter((pod) => budgetSelectsPod(budget, pod));
  // Wall time: disruptedPods holds the eviction's RFC 3339 timestamps (ctx.clock is monotonic).
  const nowMs = Date.now();
  const result = computeBudgetStatus({ budget, pods: selected, controllerOf: (pod) => podController(ctx, pod), nowMs });
  const asObject = budget as unknown as KubeObject;
  if (result.kind === 'failed') ctx.events.record(asObject, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${result.message}`);
  else if (selected.length === 0) ctx.events.record(asObject, 'Normal', 'NoPods', 'No matching pods found');
  else if (result.unmanagedPods.length > 0) {
    ctx.events.record(asObject, 'Warning', 'UnmanagedPods', 'Pods selected by this PodDisruptionBudget were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.');
  }
  if (budgetStatusChanged(budget.status, result.status)) {
    await ctx.api.update(refs.poddisruptionbudgets, namespace, budget.metadata?.name ?? '', { ...budget, status: result.status }, { subresource: 'status' });
  }
  if (result.kind === 'computed' && result.recheckAtMs !== undefined) return { requeueAfterMs: Math.max(0, result.recheckAtMs - nowMs) };
}

export const disruptionController: ControllerSpec = {
  name: 'disruption',
  workers: disruptionLimits.workers,
  maxRetries: disruptionLimits.maxRetries,
  watch,
  reconcile: (key, ctx) => reconcile(key, ctx),
};
