/** Bounds and timings of the disruption controller, each with its reason. */
export const disruptionLimits = {
  /**
   * Kubernetes' DeletionTimeout: an evicted pod that is still not being deleted after this long is
   * counted again (its eviction's delete was lost); until then it is not counted healthy.
   */
  deletionTimeoutMs: 2 * 60 * 1000,
  /** Workers: one status write per budget; budgets are few and their syncs cheap. */
  workers: 2,
  /** Retries of one budget's sync (409 on a racing eviction, a lost connection) before the runtime's give-up Event. */
  maxRetries: 15,
} as const;
