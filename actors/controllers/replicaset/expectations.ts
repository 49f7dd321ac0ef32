/**
 * Expectations, as Kubernetes' ControllerExpectations: after a sync asks for N creates and some
 * deletes, the ReplicaSet is not synced again until the informer has shown them all (or the record
 * expired), so a slow watch never makes a second sync create or delete the same pods again.
 *
 * Decision: deletions are tracked by pod key (Kubernetes' UIDTrackingControllerExpectations), so a
 * pod that vanishes twice (a delete event after a relist) is counted once.
 */
import type { Clock } from '../../../bus/clock.js';
import { replicaSetLimits } from './limits.js';

interface ExpectationRecord {
  adds: number;
  readonly deletes: Set<string>;
  readonly setAtMs: number;
}

export class Expectations {
  private readonly records = new Map<string, ExpectationRecord>();

  constructor(private readonly clock: Clock, private readonly ttlMs: number = replicaSetLimits.expectationsTtlMs) {}

  /** May `key` be synced: nothing outstanding, or the record is older than the TTL? */
  satisfied(key: string): boolean {
    const record = this.records.get(key);
    if (record === undefined) return true;
    if (record.adds <= 0 && record.deletes.size === 0) return true;
    return this.clock.now() - record.setAtMs > this.ttlMs;
  }

  expectCreations(key: string, count: number): void {
    this.set(key, { adds: count, deletes: new Set(), setAtMs: this.clock.now() });
  }

  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.set(key, { adds: 0, deletes: new Set(podKeys), setAtMs: this.clock.now() });
  }

  /** A create seen by the informer, or a create that failed or was skipped (it will never be seen). */
  creationObserved(key: string, count = 1): void {
    const record = this.records.get(key);
    if (record !== undefined) record.adds -= count;
  }

  /** A deletion seen by the informer (or a delete that failed: it will never be seen). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletes.delete(podKey);
  }

  /** The ReplicaSet is gone. */
  forget(key: string): void {
    this.records.delete(key);
  }

  /** Outstanding creates and deletes, for tests and logs. */
  pending(key: string): { readonly adds: number; readonly deletes: number } | undefined {
    const record = this.records.get(key);
    return record === undefined ? undefined : { adds: record.adds, deletes: record.deletes.size };
  }

  private set(key: string, record: ExpectationRecord): void {
    this.records.delete(key);
    if (this.records.size >= replicaSetLimits.expectationRecordsMax) {
      const oldest = this.records.keys().next();
      if (oldest.done !== true) this.records.delete(oldest.value);
    }
    this.records.set(key, record);
  }
}
