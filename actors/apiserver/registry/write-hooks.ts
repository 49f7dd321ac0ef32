/**
 * What a resource may add to the object store's writes: extra txn conditions and operations that
 * commit or fail with the object's own write. The Service allocators use it so that a Service and
 * its address records are written in one store txn (services/allocator.ts).
 */
import type { Compare, KeyValue, TxnOp } from '../../../store/index.js';
import type { KubeObject } from '../types.js';

export interface WritePlan {
  /** The object to store (the hook may fill fields in, e.g. allocated addresses). */
  readonly object: KubeObject;
  /** Conditions on other keys; each key's current state comes back to `lost` when the txn fails. */
  readonly compares: readonly Compare[];
  readonly ops: readonly TxnOp[];
  /**
   * The txn failed: the current state of each compared key (null: absent). Throws the error to
   * answer (e.g. 422 for an address the client named and another holds) or returns to try again.
   */
  lost(current: ReadonlyMap<string, KeyValue | null>): void;
  /** The write is over (committed, lost or failed): what the plan holds in memory is dropped. */
  settle(committed: boolean): void;
}

export interface ResourceWriteHooks {
  planCreate(object: KubeObject, opts: { readonly dryRun: boolean }): Promise<WritePlan>;
  planUpdate(current: KubeObject, next: KubeObject, opts: { readonly dryRun: boolean }): Promise<WritePlan>;
  /** Operations that go with the object's final removal, in the same txn. */
  removalOps(current: KubeObject): TxnOp[];
}

/** Hooks by resource plural (core group). */
export type WriteHooksByResource = Readonly<Record<string, ResourceWriteHooks>>;
