/**
 * What a client asked for and what it saw: the vocabulary shared by the recorder, the register
 * model, the checker and the formatter.
 *
 * Decision: every invoke and completion gets a position in one recorder-wide order (`...Order`)
 * besides its clock time (`...Ms`). The simulated clock advances in steps, so a reply and the
 * same client's next request often share a millisecond; ordering by time alone would make them
 * look concurrent and hide real-time constraints. The recorder sees events in the order the
 * single-threaded simulation produced them, so that order is the real-time order.
 */

/** `cas` with `expected: null` succeeds only when the key is absent (create-if-absent). */
export type Operation =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

/** put and delete → undefined; get → the value or null when absent; cas → whether it succeeded. */
export type OperationResult = string | boolean | null | undefined;

/**
 * - ok: completed with `result`;
 * - fail: definitely not applied (the checker drops it);
 * - unknown: may have taken effect at any time after the invoke, or never;
 * - pending: no outcome recorded yet (treated as unknown by the checker).
 */
export type OperationStatus = 'ok' | 'fail' | 'unknown' | 'pending';

export interface RecordedOperation {
  /** Index in the recorder, in invoke order. */
  readonly id: number;
  readonly client: string;
  readonly operation: Operation;
  readonly status: OperationStatus;
  /** Meaningful only when status is 'ok'. */
  readonly result: OperationResult;
  readonly invokeMs: number;
  readonly invokeOrder: number;
  /** When the outcome was recorded; null while pending. For 'unknown' it bounds nothing. */
  readonly completeMs: number | null;
  readonly completeOrder: number | null;
}

/** Whether `result` has the shape `operation` produces; a mismatch is a recording bug. */
export function resultFits(operation: Operation, result: OperationResult): boolean {
  switch (operation.type) {
    case 'put':
    case 'delete':
      return result === undefined;
    case 'get':
      return result === null || typeof result === 'string';
    case 'cas':
      return typeof result === 'boolean';
  }
}
