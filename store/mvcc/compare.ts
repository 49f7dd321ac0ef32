/**
 * Txn guards, evaluated against the state before the txn's writes. etcd's rules: an absent key
 * reads as 0 for every numeric target, and a `value` compare on an absent key is false.
 */
import { compareBytes } from './key-layout.js';
import type { Compare, CompareOp, KeyValue } from './types.js';

function holds(op: CompareOp, order: number): boolean {
  switch (op) {
    case 'equal':
      return order === 0;
    case 'notEqual':
      return order !== 0;
    case 'greater':
      return order > 0;
    case 'less':
      return order < 0;
  }
}

export function compareHolds(compare: Compare, current: KeyValue | null): boolean {
  if (compare.target === 'value') return current !== null && holds(compare.op, compareBytes(current.value, compare.value));
  const actual = current === null ? 0 : current[compare.target];
  return holds(compare.op, Math.sign(actual - compare.value));
}
