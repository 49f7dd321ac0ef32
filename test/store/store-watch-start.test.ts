/**
 * A watch that no member accepts fails its start and leaves nothing behind: its inbox
 * subscription is dropped, so a caller retrying watches against a dead cluster does not pile up
 * subscriptions (each one a bounded queue) for as long as the process lives.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, type Bus } from '../../bus/index.js';
import { StoreClient } from '../../store/index.js';
import { simHarness } from '../bus/sim-harness.js';

/** The bus, counting the subscriptions that are open. */
function countingBus(bus: Bus): { bus: Bus; open: () => number } {
  let open = 0;
  const counted: Bus = {
    name: bus.name,
    publish: (subject, data) => bus.publish(subject, data),
    subscribe: (subject, handler, options) => {
      const subscription = bus.subscribe(subject, handler, options);
      open++;
      let closed = false;
      return {
        ...subscription,
        unsubscribe: () => {
          if (!closed) open--;
          closed = true;
          subscription.unsubscribe();
        },
      };
    },
    request: (subject, data, options) => bus.request(subject, data, options),
    respond: (message, data) => bus.respond(message, data),
    close: () => bus.close(),
  };
  return { bus: counted, open: () => open };
}

describe('StoreWatch start', () => {
  it('drops its inbox subscription when no member accepts the watch', async () => {
    const clock = new SimulatedClock();
    const network = new SimNetwork({ clock, random: new Prng(1) });
    const { settle } = simHarness(clock);
    const { bus, open } = countingBus(network.connect('client'));
    const client = new StoreClient({ bus, cluster: 'c', members: ['s1', 's2'], clock, random: new Prng(2) });
    const started = client.watch({ range: { key: 'k', prefix: true }, startRevision: 0, onEvents: () => undefined, onError: () => undefined });
    await expect(settle(started, 30_000)).rejects.toThrow();
    expect(open()).toBe(0);
  });
});
