/**
 * Bounds of the garbage collector, each with its reason (STYLE rule 5). Its graph is the shared
 * informers' caches and their `owner` index (bounded by runtimeLimits.informerObjectsMax per
 * resource): the collector keeps no second copy of the objects.
 */
export const garbageCollectorLimits = {
  /** Workers: Kubernetes runs 20 (`--concurrent-gc-syncs`); our control plane shares two cores with the API. */
  workers: 4,
  /** A deletion races adoption and owner updates; a key retried this often has met a real fault. */
  maxRetries: 15,
  /** While an informer has not synced, keys are looked at again after this long (Kubernetes waits for sync too). */
  unsyncedRecheckMs: 200,
  /** Owner uids remembered as verified absent: Kubernetes' absentOwnerCache holds 500. */
  absentOwnersMax: 500,
  /** Dependents one reconcile patches (orphaning): more are left for the next pass, so one owner cannot hold a worker for minutes. */
  dependentsPerReconcileMax: 500,
} as const;
