/**
 * A single-member store driver on a simulated clock, elected before it is returned: for tests of
 * what a driver finds on disk at start (restarts, migrations). `settle` runs the deferred Ready
 * loop until the writes it started have settled.
 */
import { expect } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { SimulatedClock } from '../../bus/clock.js';
import type { Backend } from '../../store/backend.js';
import { RaftDriver } from '../../store/raft-driver.js';
import type { RaftLogStorage } from '../../store/raft-log-storage.js';

const timing = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 };
/** Ready rounds per flush and elections ticks: far above what one member needs, a bound against a loop. */
const flushRoundsMax = 1_000;
const electionTicksMax = 100;

export interface SingleMember {
  readonly driver: RaftDriver;
  settle(): Promise<void>;
}

export function startSingleMember(storage: { backend: Backend; log: RaftLogStorage }, options: { snapshotEveryEntries: number; seed: number }): SingleMember {
  const clock = new SimulatedClock();
  const deferred: (() => void)[] = [];
  const flush = (): void => {
    for (let round = 0; deferred.length > 0 && round < flushRoundsMax; round++) deferred.splice(0).forEach((fn) => fn());
  };
  const driver = new RaftDriver({
    self: 's1', initialMembers: ['s1'], backend: storage.backend, log: storage.log, clock, random: new Prng(options.seed), timing,
    send: () => undefined, snapshotEveryEntries: options.snapshotEveryEntries, defer: (fn) => deferred.push(fn),
  });
  for (let i = 0; i < electionTicksMax && !driver.isLeader(); i++) {
    clock.advance(timing.tickMs);
    driver.tick();
    flush();
  }
  expect(driver.isLeader()).toBe(true);
  return {
    driver,
    settle: async () => {
      for (let i = 0; i < 10; i++) {
        flush();
        await Promise.resolve();
      }
    },
  };
}
