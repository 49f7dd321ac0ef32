/**
 * Every bound of the scheduler, with its reason (STYLE rule 5). Values follow Kubernetes'
 * kube-scheduler defaults where it has one.
 */
export const schedulerLimits = {
  /** First retry of a pod that failed a cycle: Kubernetes' podInitialBackoffSeconds (1 s). */
  podInitialBackoffMs: 1_000,
  /** Backoff doubles up to this: Kubernetes' podMaxBackoffSeconds (10 s). */
  podMaxBackoffMs: 10_000,
  /**
   * An unschedulable pod no event has moved is retried after this anyway (Kubernetes'
   * podMaxInUnschedulablePodsDuration, 5 min): a missed event must not strand it forever.
   */
  podMaxInUnschedulableMs: 5 * 60_000,
  /** Pending pods the queue holds; beyond it new pods wait for the informer to re-offer them (memory bound). */
  queuedPodsMax: 200_000,
  /**
   * Bindings (and their PVC annotations) in flight at once: decisions run ahead of the store's
   * latency by this much; at the bound the next decision waits for a slot (backpressure).
   */
  bindingsInFlightMax: 256,
  /** Status patches, events and preemption deletes in flight at once, for the same reason. */
  sideEffectsInFlightMax: 64,
  /**
   * An assumed pod whose binding succeeded but whose bound state the informer has not shown
   * within this is dropped from the cache (Kubernetes' durationToExpireAssumedPod was 30 s).
   */
  assumedPodTtlMs: 30_000,
  /** How often expired assumed pods and overdue unschedulable pods are looked for. */
  housekeepingIntervalMs: 1_000,
  /** Pods decided in one go before the loop yields to the event loop (informer events, replies). */
  decisionsPerTurnMax: 64,
  /** Kubernetes' minFeasibleNodesToFind: below this many nodes every node is evaluated. */
  minFeasibleNodesToFind: 100,
  /** Kubernetes' minFeasibleNodesPercentageToFind: the adaptive percentage never goes below 5%. */
  minFeasibleNodesPercentageToFind: 5,
  /** Preemption evaluates at most this many candidate nodes (Kubernetes' minCandidateNodesAbsolute is 100). */
  preemptionCandidatesMax: 100,
  /** Waiting for the informers' first list before deciding anything. */
  informerSyncTimeoutMs: 60_000,
} as const;

export type SchedulerLimits = { readonly [K in keyof typeof schedulerLimits]: number };
