/** Bounds of the volume binder, each with the reason for its number. */
export const volumeLimits = {
  /**
   * Fresh re-reads after a Conflict within one bind attempt. A conflict means another writer won
   * the volume (or touched the claim); two more tries with fresh objects settle every honest race,
   * and the work queue's backoff takes over beyond that instead of spinning against a busy object.
   */
  bindConflictRetriesMax: 3,
  /**
   * Decisions one claim sync may act on besides conflicts: give the default class, provision,
   * bind. Each is a step towards Bound, so a sync needs at most these before it is done.
   */
  claimStepsMax: 3,
  /** Wait before retrying a claim whose selected node's volume could not be provisioned. */
  provisionRetryDelayMs: 2_000,
  /** Workers of the binder: bindings of different claims proceed in parallel, one claim at a time. */
  workersDefault: 4,
} as const;
