/**
 * Records client operations as they are invoked and completed, for the linearizability check.
 * Each invoke returns a handle that must be completed at most once: ok(result), fail() when the
 * operation definitely did not apply, unknown() when it may have. A handle never completed stays
 * pending, which the checker treats like unknown.
 */
import { assert } from '../../bus/assert.js';
import { resultFits, type Operation, type OperationResult, type OperationStatus, type RecordedOperation } from './operation.js';

export interface OperationHandle {
  ok(result: OperationResult): void;
  fail(): void;
  unknown(): void;
}

interface MutableRecord {
  id: number;
  client: string;
  operation: Operation;
  status: OperationStatus;
  result: OperationResult;
  invokeMs: number;
  invokeOrder: number;
  completeMs: number | null;
  completeOrder: number | null;
}

export class HistoryRecorder {
  private readonly records: MutableRecord[] = [];
  /** One counter for invokes and completions alike: their real-time order (see operation.ts). */
  private order = 0;
  private lastMs = -Infinity;

  constructor(private readonly now: () => number) {}

  invoke(client: string, operation: Operation): OperationHandle {
    const record: MutableRecord = {
      id: this.records.length, client, operation, status: 'pending', result: undefined,
      invokeMs: this.stamp(), invokeOrder: this.order++, completeMs: null, completeOrder: null,
    };
    this.records.push(record);
    const complete = (status: OperationStatus, result: OperationResult): void => {
      assert(record.status === 'pending', () => `operation #${record.id} of ${client} completed twice (${record.status}, then ${status})`);
      assert(status !== 'ok' || resultFits(operation, result), () => `operation #${record.id} ${operation.type} completed with a result of the wrong shape: ${JSON.stringify(result)}`);
      record.status = status;
      record.result = result;
      record.completeMs = this.stamp();
      record.completeOrder = this.order++;
    };
    return {
      ok: (result) => complete('ok', result),
      fail: () => complete('fail', undefined),
      unknown: () => complete('unknown', undefined),
    };
  }

  /** A snapshot: later completions do not change the returned objects. */
  operations(): readonly RecordedOperation[] {
    return this.records.map((record) => ({ ...record }));
  }

  private stamp(): number {
    const ms = this.now();
    // The order counter is the real-time order only if the clock never runs backwards.
    assert(ms >= this.lastMs, () => `history clock went backwards: ${ms} < ${this.lastMs}`);
    this.lastMs = ms;
    return ms;
  }
}
