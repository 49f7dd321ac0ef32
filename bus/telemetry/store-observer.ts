/**
 * The store's metrics sink (store/telemetry.ts StoreObserver, matched structurally: bus does not
 * import store) over the StoreMetrics group. Leader changes are counted as etcd counts them: every
 * time the known leader differs from the last one seen, a change to "no leader" included.
 */
import type { StoreMetrics } from './definitions.js';

export interface StoreObserverShape {
  proposalSettled(durationMs: number, ok: boolean): void;
  diskCommitted(durationMs: number): void;
  applied(entries: number, durationMs: number): void;
  raftState(state: { readonly role: string; readonly leader: string | null; readonly term: number }): void;
}

export function storeObserver(metrics: StoreMetrics): StoreObserverShape {
  let lastLeader: string | null | undefined;
  return {
    proposalSettled(durationMs, ok) {
      metrics.proposalDuration.observe({ outcome: ok ? 'ok' : 'error' }, durationMs / 1000);
    },
    diskCommitted(durationMs) {
      metrics.diskCommitDuration.observe(durationMs / 1000);
    },
    applied(entries, durationMs) {
      metrics.entriesApplied.inc(entries);
      metrics.applyDuration.observe(durationMs / 1000);
    },
    raftState({ role, leader, term }) {
      metrics.term.set(term);
      metrics.hasLeader.set(leader === null ? 0 : 1);
      metrics.isLeader.set(role === 'leader' ? 1 : 0);
      // The first state is where the member starts, not a change.
      if (lastLeader !== undefined && leader !== lastLeader) metrics.leaderChanges.inc();
      lastLeader = leader;
    },
  };
}
