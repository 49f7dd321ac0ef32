/**
 * The Deployment controller's bounds, each with its reason (Kubernetes' values).
 */
export const deploymentLimits = {
  /**
   * Kubernetes' maxRevHistoryLengthInChars: the `revision-history` annotation of a ReplicaSet
   * reused by rollbacks keeps its most recent revisions within this many characters, so a
   * Deployment rolled back and forth forever cannot grow its ReplicaSet without bound.
   */
  revisionHistoryCharsMax: 2000,
  /** Hash collisions tried before giving up (collisionCount is int32 in Kubernetes; a real collision is rare). */
  collisionCountMax: 2 ** 31 - 1,
} as const;
