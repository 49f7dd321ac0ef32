/**
 * Which pod network each node is on (nodeagent/tunnel/pod-networks.ts), from a fake API: the Node
 * label `kubus.io/pod-network` once listed, updates from the watch, this node's own value from its
 * flag, undefined for nodes without the label or unknown; and while the API fails (a broken watch,
 * lists refused) the last known networks stay.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import type { ApiClient, WatchHandlers } from '../../../actors/controllers/runtime/types.js';
import { podNetworkLabel, startPodNetworks } from '../../../nodeagent/tunnel/index.js';
import { simHarness } from '../../bus/sim-harness.js';

const node = (name: string, network?: string, resourceVersion = '1') => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion, labels: network !== undefined ? { [podNetworkLabel]: network } : {} },
});

function fakeApi(initial: unknown[]) {
  let watchers: WatchHandlers<unknown>[] = [];
  let failing = false;
  let lists = 0;
  const api = {
    list: async () => {
      lists++;
      if (failing) throw Object.assign(new Error('no quorum'), { code: 'serviceUnavailable', httpStatus: 503 });
      return { items: initial, resourceVersion: '5' };
    },
    watch: async (_resource: unknown, _options: unknown, handlers: WatchHandlers<unknown>) => {
      if (failing) throw new Error('no quorum');
      watchers.push(handlers);
      return { stop: () => { watchers = watchers.filter((h) => h !== handlers); } };
    },
  } as unknown as ApiClient;
  return {
    api,
    emit: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown) => { for (const h of watchers) h.onEvent(type, object); },
    breakWatch: () => { const current = watchers; watchers = []; for (const h of current) h.onEnd(new Error('member gone')); },
    fail: (value: boolean) => { failing = value; },
    lists: () => lists,
    watching: () => watchers.length > 0,
  };
}

describe('pod networks', () => {
  it('reads each node\'s label, follows the watch, and answers its own flag for itself', async () => {
    const clock = new SimulatedClock();
    const sim = simHarness(clock);
    const fake = fakeApi([node('a', 'net-a'), node('b', 'net-b'), node('plain')]);
    const networks = startPodNetworks({ api: fake.api, clock, logger: createJsonLogger({ level: 'error' }), nodeName: 'a' }, 'flag-a');
    await sim.waitFor(() => networks.synced(), 1_000);
    expect([networks.self, networks.of('a'), networks.of('b'), networks.of('plain'), networks.of('unknown')]).toEqual(['flag-a', 'flag-a', 'net-b', undefined, undefined]);
    fake.emit('ADDED', node('c', 'net-c', '6'));
    fake.emit('MODIFIED', node('b', 'net-b2', '7'));
    expect([networks.of('b'), networks.of('c')]).toEqual(['net-b2', 'net-c']);
    fake.emit('DELETED', node('c', 'net-c', '8'));
    expect(networks.of('c')).toBeUndefined();
    networks.stop();
  });

  it('keeps the last known networks while the API fails', async () => {
    const clock = new SimulatedClock();
    const sim = simHarness(clock, 100);
    const fake = fakeApi([node('b', 'net-b')]);
    const networks = startPodNetworks({ api: fake.api, clock, logger: createJsonLogger({ level: 'error' }), nodeName: 'a' }, 'net-a');
    await sim.waitFor(() => networks.synced(), 1_000);
    fake.fail(true);
    fake.breakWatch();
    await sim.waitFor(() => false, 60_000).catch(() => undefined); // a simulated minute of failed watches
    expect(fake.watching()).toBe(false);
    expect(networks.of('b')).toBe('net-b');
    // The API back: the informer watches again and follows changes.
    fake.fail(false);
    await sim.waitFor(() => fake.watching(), 120_000);
    fake.emit('ADDED', node('c', 'net-c', '9'));
    expect([networks.of('b'), networks.of('c')]).toEqual(['net-b', 'net-c']);
    networks.stop();
  });
});
