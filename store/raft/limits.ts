/**
 * Bounds of the Raft core that are not part of its configuration. Every queue in the core is
 * bounded by one of these or by a configured limit (`inflightAppendsMax`, `uncommittedBytesMax`).
 */
export const raftLimits = {
  /**
   * Linearizable reads waiting for a quorum round or for the first commit of the term. A round
   * takes one heartbeat, so thousands in flight means the cluster is stuck, not busy.
   */
  readIndexPendingMax: 4096,
  /** Data bytes of committed entries handed to the application in one Ready (one transaction). */
  committedEntriesBytesMax: 8 * 1024 * 1024,
} as const;
