/**
 * Every bound of the Service address allocators (ClusterIP and NodePort), with its reason.
 * The `kubernetes` Service reconciler keeps its own in kubernetes-service-limits.ts.
 */
export const serviceAllocationLimits = {
  /**
   * Shortest IPv4 prefix `--service-cluster-ip-range` may have: Kubernetes' own bound (a /12,
   * 2^20 addresses). It also bounds this member's in-memory view of allocated addresses.
   */
  clusterIpPrefixLengthMin: 12,
  /** Longest prefix: a /30 leaves one address to hand out after the network, broadcast and `kubernetes` addresses. */
  clusterIpPrefixLengthMax: 30,
  /**
   * Random probes for a free address before scanning the range: with half the range free, 16
   * probes all miss once in 65,536 picks; the scan (bounded by the range) is the rest.
   */
  randomProbesMax: 16,
  /**
   * Node ports one Service may hold (Kubernetes has no such bound). A Service and all its address
   * records are one store txn, and a txn has at most 128 parts (store/mvcc/limits.ts): each
   * claimed address costs three (condition, put, read-back) and each released one a delete, so a
   * Service replacing its ClusterIP, 24 node ports and its health-check port at once, with two
   * ResourceQuotas guarding the write, still fits (26 × 4 + 11).
   */
  nodePortsPerServiceMax: 24,
  /** Keys read per page while (re)loading the view of allocation records: well under a NATS reply's size. */
  viewListPageKeys: 2_000,
  /** First delay before the view re-lists after its watch failed: not to spin during an election. */
  viewResumeDelayMinMs: 250,
  /** Cap of the doubling resume delay: how stale the view may get after the store heals. */
  viewResumeDelayMaxMs: 5_000,
  /**
   * How long a write waits for the view's first load before choosing from what it has: the txn
   * guard keeps choices safe anyway; only a "range is full" answer needs the full view.
   */
  viewSyncWaitMs: 500,
  /**
   * A re-read of the records before answering "range full" gives up after this: it runs inside a
   * Service write, whose whole answer must come within the store's 1.5 s write deadline.
   */
  viewRefreshTimeoutMs: 500,
  /** The repair pass (records whose Service is gone) runs this often in every member: Kubernetes' repair loop runs every 3 min. */
  repairIntervalMs: 60_000,
  /** First repair pass after start: soon, so leaks from a crash are freed early, but after start-up's own writes. */
  repairFirstDelayMs: 15_000,
  /** Services per list page of a repair pass: a page of Services must stay well under a NATS reply's size. */
  repairListPageItems: 500,
  /** Leaked records one pass frees (and unrecorded addresses it records) at most: a pass stays short; the next pass takes the rest. */
  repairDeletesPerPassMax: 1_000,
} as const;

export function checkServiceAllocationLimits(limits: typeof serviceAllocationLimits): void {
  if (!(limits.clusterIpPrefixLengthMin < limits.clusterIpPrefixLengthMax)) throw new Error('serviceAllocationLimits: prefix bounds reversed');
  if (!(limits.viewResumeDelayMinMs <= limits.viewResumeDelayMaxMs)) throw new Error('serviceAllocationLimits: resume delays reversed');
  if (!(limits.repairFirstDelayMs <= limits.repairIntervalMs)) throw new Error('serviceAllocationLimits: the first repair pass must not wait longer than the interval');
}
