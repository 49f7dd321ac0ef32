/**
 * The exactly-once check: every workload value is unique, so a put value applied at two
 * revisions is a write applied twice (a retry the dedup table had forgotten). Fed hand-made
 * applied histories.
 */
import { describe, expect, it } from 'vitest';
import { duplicatePuts } from '../../scenarios/sim/watch-checker.js';

describe('exactly-once check on the applied history', () => {
  it('flags a put value applied at two revisions', () => {
    const applied = new Map([[2, 'put k1=client1-3'], [3, 'put k2=client2-4'], [7, 'put k1=client1-3']]);
    expect(duplicatePuts(applied)).toBe('writes applied twice: k1=client1-3 at revisions 2 and 7');
  });

  it('accepts unique values, deletes, and the same value on different keys', () => {
    const applied = new Map([[2, 'put k1=client1-3'], [3, 'delete k1='], [4, 'delete k1='], [5, 'put k2=client1-3; put k3=client2-9']]);
    expect(duplicatePuts(applied)).toBeNull();
  });
});
