/**
 * The namespace controller's decisions, as pure functions: the conditions a terminating namespace
 * shows (Kubernetes' namespace deleter: NamespaceDeletionDiscoveryFailure, ...GroupVersionParsing
 * Failure, ...ContentFailure, NamespaceContentRemaining, NamespaceFinalizersRemaining, with its
 * reasons and messages), whether its content is gone, and the finalize request that ends it.
 */
import { finalizerKubernetes, namespaceSpecFinalizers } from '../../apiserver/registry/deletion-policy.js';
import { setCondition, type Condition, type KubeObject } from '../../objects/index.js';
import { namespaceControllerLimits } from './limits.js';

/** One pass over the namespace's content: what is left per resource, and what failed. */
export interface ContentReport {
  /** `pods`, `replicasets.apps` → objects still there. */
  readonly remaining: ReadonlyMap<string, number>;
  /** finalizer → objects still holding it. */
  readonly finalizers: ReadonlyMap<string, number>;
  /** Messages of the deletes or lists that failed. */
  readonly failures: readonly string[];
}

export const contentGone = (report: ContentReport): boolean => report.failures.length === 0 && [...report.remaining.values()].every((n) => n === 0);

/** Does the namespace still wait for this controller (its `kubernetes` spec finalizer)? */
export const awaitsContentDeletion = (namespace: KubeObject): boolean =>
  namespace.metadata.deletionTimestamp !== undefined && namespaceSpecFinalizers(namespace).includes(finalizerKubernetes);

function counted(counts: ReadonlyMap<string, number>, format: (name: string, count: number) => string): string {
  return [...counts].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => format(name, n)).join(', ');
}

/** The five deletion conditions for a report, in Kubernetes' words. */
export function deletionConditions(report: ContentReport): Condition[] {
  const remaining = counted(report.remaining, (resource, n) => `${resource} has ${n} resource instances`);
  const finalizers = counted(report.finalizers, (finalizer, n) => `${finalizer} in ${n} resource instances`);
  return [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    report.failures.length === 0
      ? { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' }
      : { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${report.failures.length} remaining: ${report.failures.join(', ')}` },
    remaining === ''
      ? { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' }
      : { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining}` },
    finalizers === ''
      ? { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' }
      : { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${finalizers}` },
  ];
}

/** The namespace's status with the report's conditions (transition times kept where the status did not change); null when nothing changes. */
export function statusWithConditions(namespace: KubeObject, report: ContentReport, now: string): Record<string, unknown> | null {
  const status = (namespace['status'] ?? {}) as { conditions?: Condition[] } & Record<string, unknown>;
  let conditions = status.conditions ?? [];
  for (const condition of deletionConditions(report)) conditions = setCondition(conditions, condition, now);
  const unchanged = JSON.stringify(conditions) === JSON.stringify(status.conditions ?? []);
  return unchanged ? null : { ...status, conditions };
}

/** The `finalize` request body: the namespace without this controller's spec finalizer. */
export function finalizeRequest(namespace: KubeObject): KubeObject {
  const finalizers = namespaceSpecFinalizers(namespace).filter((f) => f !== finalizerKubernetes);
  return {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: namespace.metadata.name ?? '', ...(namespace.metadata.resourceVersion !== undefined ? { resourceVersion: namespace.metadata.resourceVersion } : {}) },
    spec: { finalizers },
  };
}

/** Adds one listed object to a report under construction. */
export function countObject(report: { remaining: Map<string, number>; finalizers: Map<string, number> }, resource: string, object: KubeObject): void {
  report.remaining.set(resource, (report.remaining.get(resource) ?? 0) + 1);
  for (const finalizer of object.metadata.finalizers ?? []) report.finalizers.set(finalizer, (report.finalizers.get(finalizer) ?? 0) + 1);
}

/** When to look again at content still there: a quarter of the time terminating so far, bounded. */
export function contentRecheckDelayMs(namespace: KubeObject, nowMs: number): number {
  const since = Date.parse(namespace.metadata.deletionTimestamp ?? '');
  const elapsed = Number.isFinite(since) ? Math.max(0, nowMs - since) : 0;
  return Math.min(namespaceControllerLimits.contentRecheckMaxMs, Math.max(namespaceControllerLimits.contentRecheckMinMs, Math.floor(elapsed / 4)));
}
