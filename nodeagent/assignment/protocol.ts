/**
 * The assignment stream on `kubus.<cluster>.node.<N>.assign` (DESIGN.md "Node agents"): one relay
 * in the control plane (leader-elected, one watch on all pods) publishes every change of a pod
 * bound to node N as a numbered message, and a heartbeat carrying the latest number every second.
 * msgpackr on the wire (bus/codec.ts).
 *
 * Decision: numbers are per node and per epoch. The epoch is chosen at random each time a relay
 * becomes active (a new leader, or the same one after its watch was relisted), so an agent never
 * compares sequence numbers of two relays. An agent applies `seq = last + 1` only; a gap, another
 * epoch, or no heartbeat for `missedHeartbeatMs` makes it relist its pods through the API
 * (`spec.nodeName=<N>`), which is the truth; the stream is only how it learns of changes quickly.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export const assignmentLimits = {
  /** The relay's heartbeat period per node. */
  heartbeatIntervalMs: 1_000,
  /** No message for this long: the agent relists (three heartbeats lost, not one late one). */
  missedHeartbeatMs: 3_500,
} as const;

/** A pod bound to the node was created or changed (`pod`), or deleted or moved away (`pod: null`). */
export interface AssignmentChange {
  readonly kind: 'change';
  readonly epoch: string;
  /** 1 for the first change of this node in this epoch; heartbeats carry the last one sent (0: none yet). */
  readonly seq: number;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly pod: Pod | null;
}

export interface AssignmentHeartbeat {
  readonly kind: 'heartbeat';
  readonly epoch: string;
  readonly seq: number;
}

export type AssignmentMessage = AssignmentChange | AssignmentHeartbeat;

/**
 * What the agent's pod manager consumes (the assignment client's output): a full set after every
 * (re)list, then single changes. A pod absent from a `sync` is no longer this node's.
 */
export type AssignmentUpdate =
  | { readonly type: 'sync'; readonly pods: readonly Pod[] }
  | { readonly type: 'upsert'; readonly pod: Pod }
  | { readonly type: 'delete'; readonly namespace: string; readonly name: string; readonly uid: string };
