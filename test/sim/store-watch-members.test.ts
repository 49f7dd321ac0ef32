/**
 * Found by the simulation (seed 1400): a watch being (re)created must ask every member once per
 * round. With members [s1, s2], s1 gone and s2 up, StoreWatch asked s1 twice and never s2, so the
 * watch could not be created at all; with more members it skipped every other one.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, serve, subjects } from '../../bus/index.js';
import { StoreClient } from '../../store/index.js';
import { simHarness } from '../bus/sim-harness.js';

describe('StoreWatch creation', () => {
  it('asks each member once per round: with the first member gone, the second one serves the watch', async () => {
    const clock = new SimulatedClock();
    const network = new SimNetwork({ clock, random: new Prng(1) });
    const { settle } = simHarness(clock);
    const asked: string[] = [];
    serve(network.connect('s2'), subjects('c').store('s2'), (request) => {
      const create = request as { type: string; watch: { watchId: string } };
      asked.push(create.type);
      return { watchId: create.watch.watchId, revision: 7 };
    }, { pendingMax: 10, concurrencyMax: 1 });
    const client = new StoreClient({ bus: network.connect('client'), cluster: 'c', members: ['s1', 's2'], clock, random: new Prng(2) });
    const watch = await settle(client.watch({ range: { key: 'k', prefix: true }, startRevision: 0, onEvents: () => undefined, onError: () => undefined }), 10_000);
    expect(asked).toEqual(['watchCreate']);
    expect(watch.resumeRevision()).toBe(8);
    watch.close();
  });
});
