/**
 * The simulation must fail when something is wrong and replay exactly what it ran: seeds run
 * with a deliberately broken client (scenarios/sim/workload.ts `InjectedBug`) must fail with the
 * check that catches that bug, and one seed run twice must give the same trace hash.
 */
import { describe, expect, it } from 'vitest';
import { defaultSeedOptions, runSeed, type SeedResult } from '../../scenarios/sim/run-seed.js';
import type { InjectedBug } from '../../scenarios/sim/workload.js';

const withBug = (seed: number, bug: InjectedBug): Promise<SeedResult> => runSeed(seed, { ...defaultSeedOptions, bug });

describe('simulation seeds', () => {
  it('replay exactly: one seed twice gives one trace hash, another seed another', async () => {
    const first = await runSeed(5);
    const again = await runSeed(5);
    const other = await runSeed(6);
    expect(first.ok).toBe(true);
    expect(first.operations).toBeGreaterThan(0);
    expect(again.traceHash).toBe(first.traceHash);
    expect(again.operations).toBe(first.operations);
    expect(other.traceHash).not.toBe(first.traceHash);
  });

  it('fail when every read throws an error the store never sends', async () => {
    const result = await withBug(5, 'throwingReads');
    expect(result.ok).toBe(false);
    expect(result.failure).toMatch(/^\d+ unexpected client errors, first: (get|followerGet) at \d+ ms: Error: injected: this client cannot read/);
  });

  it('fail when no read ever succeeds, even if every refusal looks legitimate', async () => {
    const result = await withBug(5, 'refusedReads');
    expect(result.ok).toBe(false);
    expect(result.failure).toBe('no get, followerGet succeeded in the whole seed');
  });

  it('fail when writes are acknowledged without being applied', async () => {
    const results = await Promise.all([withBug(3, 'ackWithoutApply'), withBug(4, 'ackWithoutApply')]);
    expect(results.some((result) => !result.ok && /^(not linearizable on key k\d|stale linearizable reads)/.test(result.failure ?? ''))).toBe(true);
  });

  it('fail when reads may be stale', async () => {
    const results = await Promise.all([withBug(3, 'staleRead'), withBug(4, 'staleRead')]);
    expect(results.some((result) => !result.ok && /^(not linearizable on key k\d|stale linearizable reads)/.test(result.failure ?? ''))).toBe(true);
  });
});
