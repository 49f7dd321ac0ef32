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
  /**
   * Data bytes of log entries a member holds in memory (everything after its last snapshot). The
   * driver snapshots every 64 MiB applied (`snapshotEveryBytes`), a leader holds at most 32 MiB
   * uncommitted, a follower at most that of two leaders (an old term's tail and the new one), and
   * one Ready applies 8 MiB: about 140 MiB in the worst normal case, so at 256 MiB the bound only
   * bites when snapshots stop keeping up. Then new proposals are refused and followers take less,
   * instead of the process growing until the machine kills it. checkDriverLimits checks the sum.
   */
  logBytesMax: 256 * 1024 * 1024,
  /**
   * How far behind the leader's last index a learner may be and still be promoted (besides
   * answering in this term, replicating, and needing no snapshot). This close, it is within one
   * pipelined append window of the leader, so as a voter it acknowledges new entries within a few
   * round trips and the larger quorum does not stall on it. etcd allows 90 % of the leader's
   * match instead, which grows with the log: on a long log a far-behind learner passes.
   */
  learnerCatchUpEntriesMax: 1000,
} as const;
