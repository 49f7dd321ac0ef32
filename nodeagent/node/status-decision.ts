/**
 * When the agent writes its Node's status: the kubelet's economy. The Lease is the heartbeat
 * (a small object every 10 s); the full status (conditions, capacity, addresses, nodeInfo) is
 * written at most every `statusReportIntervalMs` (5 min) unless something a reader acts on
 * changed: a condition's status, the addresses, capacity or allocatable, nodeInfo. Messages and
 * heartbeat times alone never cause a write. At 5,000 nodes this is what the store can carry.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

/** The parts of a status whose change is worth a write at once, as one comparable string. */
export function statusSignature(status: NonNullable<Node['status']>): string {
  const conditions = (status.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();
  return JSON.stringify([conditions, status.addresses ?? [], status.capacity ?? {}, status.allocatable ?? {}, status.nodeInfo ?? {}]);
}

export interface LastReport {
  readonly signature: string;
  readonly atMs: number;
}

export type StatusDecision =
  | { readonly write: true; readonly why: 'first' | 'changed' | 'interval' }
  | { readonly write: false; readonly nextDueMs: number };

export function decideStatusReport(last: LastReport | null, signature: string, nowMs: number, intervalMs: number): StatusDecision {
  if (last === null) return { write: true, why: 'first' };
  if (last.signature !== signature) return { write: true, why: 'changed' };
  if (nowMs - last.atMs >= intervalMs) return { write: true, why: 'interval' };
  return { write: false, nextDueMs: last.atMs + intervalMs };
}
