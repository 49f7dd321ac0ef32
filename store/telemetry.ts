/**
 * What the store tells a metrics sink (issue 13: proposal, commit and apply latency, Raft term and
 * leader changes). A plain interface: the driver stays free of prom-client, and the deterministic
 * simulation passes none. Times are the driver's clock's milliseconds (simulated in the simulation).
 */
import type { MemberId, Role } from './raft/types.js';

export interface StoreObserver {
  /** A write this member proposed settled: applied here (ok) or failed (not leader, dropped, timed out...). */
  proposalSettled(durationMs: number, ok: boolean): void;
  /** A durable (fsynced) transaction persisting a Ready took this long, the applies inside it included. */
  diskCommitted(durationMs: number): void;
  /** `entries` committed entries were applied to the state machine in `durationMs`. */
  applied(entries: number, durationMs: number): void;
  /** The member's Raft role, leader or term changed. */
  raftState(state: { readonly role: Role; readonly leader: MemberId | null; readonly term: number }): void;
}
