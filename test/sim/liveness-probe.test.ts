/**
 * The liveness probe's verdicts must reject what they claim to: a counted read that waited past
 * the bound (a lost read waiting out its deadline), and a cut-off leader that kept leading; and
 * accept fast reads, reads that do not count, and a leader that stepped down in time.
 */
import { describe, expect, it } from 'vitest';
import { lateStepDown, livenessProbeLimits, slowReads, type ReadSample } from '../../scenarios/sim/liveness-probe.js';

const sample = (latencyMs: number, counts: boolean): ReadSample => ({ member: 's2', invokedMs: 4_000, latencyMs, outcome: 'NoQuorumError: no quorum', counts });

describe('slow read verdict', () => {
  it('flags a counted read that waited out a 200 ms deadline', () => {
    expect(slowReads([sample(4, true), sample(206, true)])).toEqual(['read on s2 invoked at 4000 ms took 206 ms (NoQuorumError: no quorum)']);
  });

  it('accepts reads within the bound and slow reads that do not count', () => {
    expect(slowReads([sample(livenessProbeLimits.answerBoundMs, true), sample(3, true), sample(210, false)])).toEqual([]);
  });
});

describe('step-down verdict', () => {
  it('flags a cut-off leader still leading past the bound', () => {
    expect(lateStepDown('s1', 4_060, 4_360)).toBe('leader s1, cut off from its quorum\'s answers at 4060 ms, still led 300 ms later (bound 250 ms)');
  });

  it('accepts a leader that stepped down within two election timeouts', () => {
    expect(lateStepDown('s1', 4_060, 4_060 + 204)).toBeNull();
    expect(lateStepDown('s1', 4_060, 4_060 + livenessProbeLimits.stepDownBoundMs)).toBeNull();
  });
});
