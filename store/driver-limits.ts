/**
 * Timing and bounds of a store member. Gathered here so they can be checked against each other
 * at start-up (`checkDriverLimits`).
 */
import { assert } from '../bus/assert.js';
import { raftLimits } from './raft/limits.js';

export interface RaftTiming {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
}

/**
 * 50 ms ticks, a 500-950 ms randomized election timeout and 50 ms heartbeats: the election
 * timeout is ~10x the heartbeat (few split votes), and short enough that a failover beats etcd's
 * 1 s default on the same machines. Slow disks or loaded hosts should raise `electionTicks`.
 */
export const defaultRaftTiming: RaftTiming = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 };

export const driverLimits = {
  /** The limit on one request: 1.5 MiB, as etcd's default --max-request-bytes. */
  requestBytesMax: 1.5 * 1024 * 1024,
  /** Pipelined appends per follower (etcd's MaxInflightMsgs default). */
  inflightAppendsMax: 256,
  /** Entry bytes per append message: below the raft transport's batch cut. */
  appendBytesMax: 512 * 1024,
  /** Uncommitted bytes the leader accepts before refusing proposals: back-pressure without quorum. */
  uncommittedBytesMax: 32 * 1024 * 1024,
  /** A Ready loop that has not settled after this many rounds is a bug, not load. */
  readyRoundsMax: 10_000,
  /**
   * Applied entries between snapshots: etcd 3.4's default --snapshot-count (100,000; 10,000 was
   * etcd before 3.2). A snapshot encodes the whole MVCC state on the event loop, a stall of
   * seconds at 10,000 entries under load (measured by bench:store), so rarely; the byte bound
   * below still keeps the live log small under large writes.
   */
  snapshotEveryEntries: 100_000,
  /**
   * Each member's thresholds (entries and bytes) are raised by up to this fraction of them, by a
   * fixed amount drawn from its id, so members do not all snapshot at the same index (one member's
   * snapshot then stalls no commit: the others still form a quorum).
   */
  snapshotStaggerFraction: 1 / 8,
  /**
   * Or applied data bytes between snapshots, whichever comes first: the count alone lets 10,000
   * maximal requests (15 GiB) pile up in the in-memory log and on disk. 64 MiB keeps a restart's
   * replay and the memory the live log takes small, while a snapshot (the whole MVCC state) is
   * still taken rarely under normal-sized writes.
   */
  snapshotEveryBytes: 64 * 1024 * 1024,
} as const;

export function checkDriverLimits(timing: RaftTiming): void {
  assert(timing.tickMs > 0 && timing.electionTicks > timing.heartbeatTicks && timing.heartbeatTicks >= 1, 'raft timing: need tickMs > 0 and electionTicks > heartbeatTicks >= 1');
  assert(driverLimits.appendBytesMax >= driverLimits.requestBytesMax / 3, 'appendBytesMax too small against requestBytesMax');
  assert(driverLimits.uncommittedBytesMax >= 4 * driverLimits.requestBytesMax, 'uncommittedBytesMax must hold several maximal requests');
  // What the live log may hold in normal operation: applied since the last snapshot (one Ready may
  // overshoot the trigger), an old leader's uncommitted tail plus the current one's, one request.
  const liveLogBytes = driverLimits.snapshotEveryBytes * (1 + driverLimits.snapshotStaggerFraction) + raftLimits.committedEntriesBytesMax + 2 * driverLimits.uncommittedBytesMax + driverLimits.requestBytesMax;
  assert(raftLimits.logBytesMax >= liveLogBytes, () => `raft logBytesMax ${raftLimits.logBytesMax} is below what the live log holds between snapshots (${liveLogBytes})`);
}

/** `threshold` raised by this member's fixed share of `snapshotStaggerFraction` (FNV-1a of its id): the same on every start. */
export function staggeredThreshold(threshold: number, self: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < self.length; i++) hash = Math.imul(hash ^ self.charCodeAt(i), 0x01000193) >>> 0;
  const spread = Math.floor(threshold * driverLimits.snapshotStaggerFraction);
  return threshold + (spread === 0 ? 0 : hash % (spread + 1));
}
