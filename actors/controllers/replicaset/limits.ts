/**
 * The ReplicaSet controller's bounds, each with its reason (the values are Kubernetes' own).
 */
export const replicaSetLimits = {
  /** Kubernetes' burstReplicas: at most this many creates or deletes per sync, so one sync cannot flood the API. */
  burstReplicasMax: 500,
  /**
   * Kubernetes' ExpectationsTimeout: expectations older than this count as satisfied, so a watch
   * event that never arrives (a pod created then deleted before the informer saw it) cannot wedge
   * a ReplicaSet forever.
   */
  expectationsTtlMs: 5 * 60_000,
  /** Kubernetes' SlowStartInitialBatchSize: the first batch of creates; each next batch doubles. */
  slowStartInitialBatch: 1,
  /**
   * Expectation records kept at once. One per ReplicaSet with creates or deletes in flight, removed
   * when satisfied or when the ReplicaSet goes; past this bound the oldest record is dropped, which
   * only lets its ReplicaSet sync early (as an expired record would).
   */
  expectationRecordsMax: 100_000,
} as const;
