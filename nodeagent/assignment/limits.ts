/** Bounds of the agent's assignment client (STYLE rule 5), each with its reason. */
import { assignmentLimits } from './protocol.js';

export const assignmentClientLimits = {
  /** No message for this long: relist (the protocol's bound: three heartbeats lost, not one late one). */
  missedHeartbeatMs: assignmentLimits.missedHeartbeatMs,
  /**
   * While no relay message comes at all (no relay leads: a failover, the controller manager off),
   * each relist for silence doubles the silence allowed before the next, up to this: lists are then
   * the node's only news, and 5,000 nodes listing every 3.5 s would be 1,400 lists/s.
   */
  silentRelistMaxMs: 30_000,
  /**
   * At start, how long to wait for the first relay message before listing anyway. Listing after a
   * message means the list already covers that epoch, so the stream can be applied from it; listing
   * before any message costs a second list once the first heartbeat shows the epoch.
   */
  firstMessageWaitMs: Math.round(assignmentLimits.heartbeatIntervalMs * 1.5),
  /** How often the client checks the heartbeat deadline (a quarter of the protocol's period). */
  tickMs: Math.round(assignmentLimits.heartbeatIntervalMs / 4),
  /**
   * Relay messages held while a list is in flight (replayed on top of it). A node holds at most a
   * few hundred pods, so a list's worth of changes is far below this; beyond it the held messages
   * are dropped and the client lists again once this list is done.
   */
  listBufferMax: 1_000,
  /** Messages the subscription queues for the client; an overflow loses a message, which the sequence shows, so the client relists. */
  subscriptionPendingMax: 2_000,
  /** Uids whose deletion the stream announced, remembered so a stale list or message never brings them back; oldest forgotten first. */
  tombstonesMax: 4_096,
  /** Pods per list page (Kubernetes' own informers use 500). */
  listPageSize: 500,
  /** Pages per list: 100 × 500 pods is far beyond any node (110 by default); more means a runaway continue loop. */
  listPagesMax: 100,
  /**
   * A relist after the first sync waits up to this long, a fixed share per node (from its name):
   * a relay failover makes every agent of the cluster relist at once, and 5,000 lists in the same
   * instant would queue behind each other in the API; spread over 2 s they cost each node 0-2 s.
   */
  relistSpreadMs: 2_000,
  /** First retry of a failed list (the API is unreachable or has no quorum); doubles up to the max. */
  listBackoffInitialMs: 500,
  /** A list is retried at least this often while the API stays unreachable, so the node catches up within this after it returns. */
  listBackoffMaxMs: 10_000,
} as const;

export function checkAssignmentClientLimits(): void {
  const l = assignmentClientLimits;
  if (l.missedHeartbeatMs <= assignmentLimits.heartbeatIntervalMs) throw new Error('assignmentClientLimits: missedHeartbeatMs must exceed the heartbeat period');
  if (l.tickMs >= l.missedHeartbeatMs) throw new Error('assignmentClientLimits: tickMs must be below missedHeartbeatMs');
  if (l.silentRelistMaxMs < l.missedHeartbeatMs) throw new Error('assignmentClientLimits: silentRelistMaxMs must be at least missedHeartbeatMs');
  if (l.listBackoffInitialMs > l.listBackoffMaxMs) throw new Error('assignmentClientLimits: listBackoffInitialMs must not exceed listBackoffMaxMs');
}
