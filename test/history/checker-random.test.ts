/**
 * Randomized evidence for the checker:
 * - histories recorded from an atomic register with random overlaps, unknown outcomes and
 *   late-applied abandoned writes are linearizable by construction: the checker must say ok;
 * - on small histories, mutated or not, the checker must agree with an exhaustive brute force
 *   that shares none of its code, in both directions;
 * - mutated large histories must yield violations on some seeds (a broken read or cas result is
 *   usually detectable), and the check must stay fast at the simulation's size.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { checkLinearizable, type RecordedOperation } from '../../scenarios/history/index.js';
import { bruteForceLinearizable, generateHistory, type GeneratorOptions } from './register-histories.js';

const check = (operations: readonly RecordedOperation[]) =>
  checkLinearizable(operations, { timeBudgetMs: 5_000, now: () => performance.now() });

/** Changes one ok read or cas result, the kind of lie a broken store tells. Null when there is none. */
function mutate(operations: readonly RecordedOperation[], random: Prng): readonly RecordedOperation[] | null {
  const targets = operations.filter((op) => op.status === 'ok' && (op.operation.type === 'get' || op.operation.type === 'cas'));
  if (targets.length === 0) return null;
  const target = random.pick(targets);
  const written = operations.flatMap((op) => (op.operation.type === 'put' || op.operation.type === 'cas') && op.operation.key === target.operation.key ? [op.operation.value] : []);
  let result: string | boolean | null;
  if (target.operation.type === 'cas') result = target.result !== true;
  else {
    const choices = [null, ...written].filter((value) => value !== target.result);
    result = choices.length === 0 ? null : random.pick(choices);
  }
  return operations.map((op) => (op === target ? { ...op, result } : op));
}

describe('checkLinearizable on generated histories', () => {
  it('agrees with brute force on small histories, mutated or not', () => {
    const options: GeneratorOptions = { clients: 3, keys: 1, operations: 7, unknownRate: 0.2, abandonRate: 0.15 };
    let violations = 0;
    let mutatedOk = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const history = generateHistory(seed, options);
      expect(bruteForceLinearizable(history), `seed ${seed}: generator must be linearizable`).toBe(true);
      expect(check(history), `seed ${seed}`).toEqual({ verdict: 'ok' });
      const mutated = mutate(history, new Prng(seed));
      if (mutated === null) continue;
      const expected = bruteForceLinearizable(mutated);
      expect(check(mutated).verdict, `mutated seed ${seed}`).toBe(expected ? 'ok' : 'violation');
      if (expected) mutatedOk++;
      else violations++;
    }
    // Both answers must actually occur, or the comparison proves little.
    expect(violations).toBeGreaterThan(50);
    expect(mutatedOk).toBeGreaterThan(10);
  });

  it('agrees with brute force when most outcomes are unknown', () => {
    const options: GeneratorOptions = { clients: 3, keys: 1, operations: 8, unknownRate: 0.5, abandonRate: 0.4 };
    const verdicts = { ok: 0, violation: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const history = generateHistory(seed, options);
      expect(check(history), `seed ${seed}`).toEqual({ verdict: 'ok' });
      const mutated = mutate(history, new Prng(seed));
      if (mutated === null) continue;
      const expected = bruteForceLinearizable(mutated) ? 'ok' : 'violation';
      expect(check(mutated).verdict, `mutated seed ${seed}`).toBe(expected);
      verdicts[expected]++;
    }
    expect(verdicts.violation).toBeGreaterThan(20);
    expect(verdicts.ok).toBeGreaterThan(20);
  });

  it('accepts large linearizable histories quickly', () => {
    const options: GeneratorOptions = { clients: 3, keys: 4, operations: 3_000, unknownRate: 0.05, abandonRate: 0.05 };
    let slowestMs = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const history = generateHistory(seed, options);
      const started = performance.now();
      expect(check(history), `seed ${seed}`).toEqual({ verdict: 'ok' });
      slowestMs = Math.max(slowestMs, performance.now() - started);
    }
    // Typically a few milliseconds; the bound leaves room for a loaded CI machine.
    expect(slowestMs).toBeLessThan(1_000);
  });

  it('finds violations in mutated large histories', () => {
    const options: GeneratorOptions = { clients: 3, keys: 4, operations: 1_000, unknownRate: 0.05, abandonRate: 0.05 };
    const verdicts = { ok: 0, violation: 0, undecided: 0 };
    for (let seed = 1; seed <= 30; seed++) {
      const mutated = mutate(generateHistory(seed, options), new Prng(seed));
      if (mutated !== null) verdicts[check(mutated).verdict]++;
    }
    expect(verdicts.violation).toBeGreaterThan(10);
    expect(verdicts.undecided).toBe(0);
  });
});
