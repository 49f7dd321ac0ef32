/**
 * What a resource may add to the object store's writes: extra txn conditions and operations that
 * commit or fail with the object's own write. The Service allocators use it so that a Service and
 * its address records are written in one store txn (services/allocator.ts).
 */
import type { Compare, KeyValue, TxnOp, TxnResponse } from '../../../store/index.js';
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

/** The write's txn, with the hook's plan settled however it ends. */
export async function settling<T extends { succeeded: boolean }>(plan: WritePlan | null, write: Promise<T>): Promise<T> {
  try {
    const result = await write;
    plan?.settle(result.succeeded);
    return result;
  } catch (error) {
    plan?.settle(false);
    throw error;
  }
}

/**
 * Whether a failed txn failed on the hook's conditions: `responses` are the failure branch's
 * reads of the compared keys, in order. Tells the plan what it lost (which may throw).
 */
export function hookLost(plan: WritePlan, responses: readonly TxnResponse[]): boolean {
  const current = new Map<string, KeyValue | null>();
  let failed = false;
  plan.compares.forEach((compare, i) => {
    const response = responses[i];
    const kv = response?.type === 'range' ? response.result.kvs[0] ?? null : null;
    current.set(compare.key, kv);
    if (!compareHolds(compare, kv)) failed = true;
  });
  if (failed) plan.lost(current);
  return failed;
}

function compareHolds(compare: Compare, kv: KeyValue | null): boolean {
  if (compare.target === 'value') return false;
  const actual = kv === null ? 0 : compare.target === 'lease' ? kv.lease : kv[compare.target];
  switch (compare.op) {
    case 'equal': return actual === compare.value;
    case 'notEqual': return actual !== compare.value;
    case 'greater': return actual > compare.value;
    case 'less': return actual < compare.value;
  }
}
