/**
 * Bounds of the namespace controller, each with its reason (STYLE rule 5).
 */
export const namespaceControllerLimits = {
  /** Namespaces deleted at once: Kubernetes runs 10 (`--concurrent-namespace-syncs`); two cores here. */
  workers: 2,
  /** Deleting content fails transiently (a member changing leader): a key retried this often has met a real fault. */
  maxRetries: 15,
  /**
   * A namespace marked Terminating is first looked at after this long, as Kubernetes' namespace
   * controller waits (namespaceDeletionGracePeriod, 5 s): every API member has seen the mark by
   * then, and `kubectl delete -f` of a Namespace and its objects deletes those itself, in file
   * order, instead of finding them already gone (NotFound).
   */
  deletionGracePeriodMs: 5_000,
  /**
   * Content still there (finalizers, the garbage collector at work): look again after a quarter of
   * the time the namespace has been terminating, between these bounds. A pass lists every
   * namespaced resource twice, so a namespace a finalizer holds for hours must not cost that
   * every half second.
   */
  contentRecheckMinMs: 500,
  contentRecheckMaxMs: 15_000,
  /** Pages of one resource listed per pass (500 objects a page): beyond it the rest waits for the next pass. */
  listPagesMax: 20,
  listPageSize: 500,
} as const;
