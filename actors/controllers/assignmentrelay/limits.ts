/** Bounds of the assignment relay (STYLE rule 5), each with its reason. */
import { assignmentLimits } from '../../../nodeagent/assignment/protocol.js';

export const relayLimits = {
  /** Heartbeats per node: the protocol's period (agents relist after missing about three). */
  heartbeatIntervalMs: assignmentLimits.heartbeatIntervalMs,
  /**
   * Publish failures logged per node before going quiet: a node name that cannot be a subject token
   * (a dot in it) fails on every change and every second; its agent relists on missed heartbeats.
   */
  publishErrorsLoggedPerNodeMax: 3,
  /** Nodes remembered for that count; beyond it the count restarts (memory stays bounded). */
  publishErrorNodesMax: 10_000,
} as const;

/*
 * Sizes, for the record (the publish itself is fire-and-forget into the NATS client's outbound
 * buffer, which it flushes in the background):
 * - a heartbeat is ~60 bytes; one per known node per second: 5,000 nodes ≈ 300 KB/s.
 * - a change carries the whole pod (typically 2-8 KB); one per pod write. A pod above the server's
 *   max_payload (1 MB default) cannot be sent: its number is still used, so the next heartbeat
 *   shows the agent a gap and it relists.
 * - state: one number per node seen in this activation and one uid per bound pod.
 */
