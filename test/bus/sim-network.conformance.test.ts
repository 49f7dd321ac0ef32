/**
 * The simulated network passes the shared Bus conformance suite, with time moved by hand.
 */
import { Prng, SimNetwork, SimulatedClock, type Bus } from '../../bus/index.js';
import { describeBusConformance, type BusHarness } from './bus-conformance.js';
import { simHarness } from './sim-harness.js';

describeBusConformance('SimNetwork', async (): Promise<BusHarness> => {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(7) });
  const harness = simHarness(clock);
  return {
    connect: async (name): Promise<Bus> => network.connect(name),
    waitFor: harness.waitFor,
    settle: harness.settle,
    close: async () => undefined,
  };
});
