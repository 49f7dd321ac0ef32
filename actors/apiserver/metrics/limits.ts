/** Bounds of the members' metrics view; each with its reason. */
export const metricsViewLimits = {
  /**
   * Nodes whose latest report a member keeps. One report per node, replaced by the next, so memory
   * is bounded by node count; 10,000 is twice the 5,000 hollow nodes the scale tests run. A report
   * from a node beyond it is dropped (and logged) until a stale one ages out.
   */
  nodesMax: 10_000,
  /**
   * Reports waiting for the view's handler (the bus subscription's pendingMax): every node's report
   * at once, as when a process of hollow agents started together publishes in phase (10,000 reports of
   * ~4 KB for 30 pods each: ~40 MB at worst). Beyond it the member is too slow, and the next interval's report replaces a dropped one.
   */
  reportsPendingMax: 10_000,
  /** Containers in one pod: Kubernetes has no hard bound; a report naming more is malformed (an agent bug or a forged message), dropped. */
  containersPerPodMax: 256,
  /** A refused report is logged at most this often (a broken agent sends one per interval, forever). */
  refusedLogEveryMs: 60_000,
} as const;
