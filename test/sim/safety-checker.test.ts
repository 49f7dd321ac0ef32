import { describe, expect, it } from 'vitest';
import { matchLogs, SafetyViolation } from '../../scenarios/sim/safety-checker.js';

const log = (...entries: [number, string][]): Map<number, string> => new Map(entries);

describe('log matching check', () => {
  it('accepts logs that agree up to their last common term and diverge after', () => {
    const a = log([1, '1:a'], [2, '1:b'], [3, '2:c']);
    const b = log([1, '1:a'], [2, '1:b'], [3, '3:x'], [4, '3:y']);
    expect(() => matchLogs('s1', a, 's2', b)).not.toThrow();
  });

  it('rejects logs with the same entry term at an index but a different entry before it', () => {
    const a = log([1, '1:a'], [2, '1:b'], [3, '2:c']);
    const b = log([1, '1:a'], [2, '1:DIFFERENT'], [3, '2:c']);
    expect(() => matchLogs('s1', a, 's2', b)).toThrow(SafetyViolation);
  });

  it('rejects two different entries with the same index and term', () => {
    expect(() => matchLogs('s1', log([5, '4:a']), 's2', log([5, '4:b']))).toThrow(/differ at 5/);
  });
});
