/**
 * Hand-written histories with a known answer: each test states the interleaving it builds with
 * a scripted clock, and what a correct register would allow.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizable, formatHistory, type LinearizabilityVerdict, type RecordedOperation } from '../../scenarios/history/index.js';
import { cas, del, get, put, Script } from './register-histories.js';

function check(operations: readonly RecordedOperation[]): LinearizabilityVerdict {
  return checkLinearizable(operations, { timeBudgetMs: 5_000, now: () => performance.now() });
}

describe('checkLinearizable', () => {
  it('accepts a sequential history', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c1', get('x')).ok('a');
    s.at(2).invoke('c2', cas('x', 'a', 'b')).ok(true);
    s.at(3).invoke('c2', get('x')).ok('b');
    s.at(4).invoke('c1', del('x')).ok(undefined);
    s.at(5).invoke('c1', get('x')).ok(null);
    expect(check(s.operations())).toEqual({ verdict: 'ok' });
  });

  it('accepts a read concurrent with a write returning either value', () => {
    for (const seen of ['a', 'b']) {
      const s = new Script();
      s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
      const write = s.at(1).invoke('c1', put('x', 'b'));
      const read = s.at(2).invoke('c2', get('x'));
      s.at(3);
      read.ok(seen);
      write.ok(undefined);
      s.at(4).invoke('c3', get('x')).ok('b');
      expect(check(s.operations())).toEqual({ verdict: 'ok' });
    }
  });

  it('accepts reads that see concurrent writes in an order consistent for all', () => {
    // put a and put b overlap; c2 sees b then a: so b took effect first, then a.
    const s = new Script();
    const wa = s.at(0).invoke('c1', put('x', 'a'));
    const wb = s.at(0).invoke('c3', put('x', 'b'));
    s.at(1).invoke('c2', get('x')).ok('b');
    s.at(2).invoke('c2', get('x')).ok('a');
    s.at(3);
    wa.ok(undefined);
    wb.ok(undefined);
    expect(check(s.operations())).toEqual({ verdict: 'ok' });
  });

  it('reports a stale read after a completed write', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c1', put('x', 'b')).ok(undefined);
    s.at(2).invoke('c2', get('x')).ok('a');
    const verdict = check(s.operations());
    expect(verdict.verdict).toBe('violation');
    if (verdict.verdict !== 'violation') return;
    expect(verdict.key).toBe('x');
    expect(verdict.explanation).toContain('longest linearizable prefix: 2 of 3');
    expect(verdict.explanation).toMatch(/could not be placed next \(register "b"[^\n]*\n {2}#2 c2 \[2 → 2\] get\("x"\) = "a"/);
  });

  it('reports a stale read even when the write completed in the same millisecond', () => {
    // The completion was recorded before the read's invoke: real time orders them.
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    const write = s.at(5).invoke('c1', put('x', 'b'));
    s.at(9);
    write.ok(undefined);
    s.invoke('c2', get('x')).ok('a');
    expect(check(s.operations()).verdict).toBe('violation');
  });

  it('reports a lost write', () => {
    // Both puts completed, then every read shows the older one: b was lost.
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c2', put('x', 'b')).ok(undefined);
    s.at(2).invoke('c1', get('x')).ok('a');
    expect(check(s.operations()).verdict).toBe('violation');
  });

  it('applies cas semantics, including create-if-absent', () => {
    const good = new Script();
    good.at(0).invoke('c1', cas('x', null, 'a')).ok(true);
    good.at(1).invoke('c2', cas('x', null, 'b')).ok(false);
    good.at(2).invoke('c2', cas('x', 'zzz', 'b')).ok(false);
    good.at(3).invoke('c2', cas('x', 'a', 'c')).ok(true);
    good.at(4).invoke('c1', get('x')).ok('c');
    good.at(5).invoke('c1', del('x')).ok(undefined);
    good.at(6).invoke('c1', cas('x', null, 'd')).ok(true);
    expect(check(good.operations())).toEqual({ verdict: 'ok' });

    const twoCreators = new Script();
    twoCreators.at(0).invoke('c1', cas('x', null, 'a')).ok(true);
    twoCreators.at(1).invoke('c2', cas('x', null, 'b')).ok(true);
    expect(check(twoCreators.operations()).verdict).toBe('violation');

    const failedButMatched = new Script();
    failedButMatched.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    failedButMatched.at(1).invoke('c2', cas('x', 'a', 'b')).ok(false);
    expect(check(failedButMatched.operations()).verdict).toBe('violation');

    const succeededButAbsent = new Script();
    succeededButAbsent.at(0).invoke('c1', cas('x', 'a', 'b')).ok(true);
    expect(check(succeededButAbsent.operations()).verdict).toBe('violation');
  });

  it('accepts an unknown write that took effect long after its client gave up', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c1', put('x', 'late')).unknown();
    s.at(2).invoke('c2', get('x')).ok('a');
    s.at(3).invoke('c2', put('x', 'b')).ok(undefined);
    s.at(4).invoke('c2', get('x')).ok('b');
    s.at(50).invoke('c2', get('x')).ok('late');
    expect(check(s.operations())).toEqual({ verdict: 'ok' });
  });

  it('accepts unknown and pending operations that never took effect', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c1', put('x', 'never')).unknown();
    s.at(2).invoke('c1', cas('x', 'a', 'never2')).unknown();
    s.at(3).invoke('c1', del('x'));
    s.at(4).invoke('c2', get('x')).ok('a');
    s.at(9).invoke('c2', get('x')).ok('a');
    expect(check(s.operations())).toEqual({ verdict: 'ok' });
  });

  it('does not let an unknown write explain a value read before it was invoked', () => {
    const s = new Script();
    s.at(0).invoke('c2', get('x')).ok('later');
    s.at(1).invoke('c1', put('x', 'later')).unknown();
    expect(check(s.operations()).verdict).toBe('violation');
  });

  it('ignores failed operations', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('x', 'a')).ok(undefined);
    s.at(1).invoke('c1', put('x', 'failed')).fail();
    s.at(2).invoke('c2', get('x')).ok('a');
    expect(check(s.operations())).toEqual({ verdict: 'ok' });

    // ...so a read of a failed write's value is a violation.
    s.at(3).invoke('c2', get('x')).ok('failed');
    expect(check(s.operations()).verdict).toBe('violation');
  });

  it('reports the key whose history is broken, checking each key on its own', () => {
    const s = new Script();
    s.at(0).invoke('c1', put('a', '1')).ok(undefined);
    s.at(0).invoke('c2', put('b', '1')).ok(undefined);
    s.at(1).invoke('c1', put('c', '1')).ok(undefined);
    s.at(2).invoke('c1', get('a')).ok('1');
    s.at(2).invoke('c2', put('b', '2')).ok(undefined);
    s.at(3).invoke('c3', get('c')).ok('1');
    s.at(4).invoke('c3', get('b')).ok('1');
    const verdict = check(s.operations());
    expect(verdict).toMatchObject({ verdict: 'violation', key: 'b' });
    const text = formatHistory(s.operations(), 'b');
    expect(text.split('\n')).toEqual([
      'history of key "b" (3 operations):',
      '#1 c2 [0 → 0] put("b", "1") = ok',
      '#4 c2 [2 → 2] put("b", "2") = ok',
      '#6 c3 [4 → 4] get("b") = "1"',
    ]);
  });

  it('answers undecided when the time budget is spent', () => {
    // Twenty concurrent unknown writes and a read of a value nobody wrote: refuting it means
    // trying every subset of the writes, far more than one budget check's worth of iterations.
    const s = new Script();
    s.at(0).invoke('c0', put('x', 'a')).ok(undefined);
    for (let i = 0; i < 20; i++) s.at(1).invoke(`c${i}`, put('x', `v${i}`)).unknown();
    s.at(2).invoke('c1', get('x')).ok('nobody wrote this');
    let calls = 0;
    // A clock that is past the budget from its second reading on.
    const verdict = checkLinearizable(s.operations(), { timeBudgetMs: 10, now: () => (calls++ === 0 ? 0 : 1_000) });
    expect(verdict).toEqual({ verdict: 'undecided', key: 'x' });
  });
});
