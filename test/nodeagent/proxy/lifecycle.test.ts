/**
 * The proxy's stateful parts on a simulated clock: a listener machine stands by while its address
 * is taken (EADDRINUSE) and takes it within one retry interval once free, reports any other bind
 * failure once as unavailable, closes what it bound on stop (also a bind finishing after the stop);
 * the connection tracker drains TCP connections of a vanished endpoint up to the bound (an endpoint
 * back in time keeps them) and closes UDP sessions at once.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../../bus/clock.js';
import { ConnectionTracker, type TrackedConnection } from '../../../nodeagent/proxy/connection-tracker.js';
import { listenerMachine, type ListenerState } from '../../../nodeagent/proxy/listener-machine.js';
import type { ListenerSpec } from '../../../nodeagent/proxy/listener-plan.js';
import { settle } from '../../controllers/runtime/fake-api.js';

const spec: ListenerSpec = { key: 'TCP/127.96.0.9:80', address: '127.96.0.9', port: 80, protocol: 'TCP', service: { namespace: 'default', name: 'web' }, portName: '', entry: 'clusterIP' };
const inUse = (): Error => Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });

function startListener(bind: (signal: AbortSignal) => Promise<{ close(): Promise<void> }>, clock: SimulatedClock) {
  const states: ListenerState[] = [];
  const actor = createActor(listenerMachine, {
    clock,
    input: { spec, bind: (_s, signal) => bind(signal), standbyRetryMs: 100, unavailableRetryMs: 1_000, onState: (_s, state) => states.push(state) },
  });
  actor.start();
  return { actor, states };
}

describe('listener machine', () => {
  it('stands by while the address is taken and serves once it is free', async () => {
    const clock = new SimulatedClock();
    let taken = true;
    let closes = 0;
    const { actor, states } = startListener(async () => {
      if (taken) throw inUse();
      return { close: async () => void closes++ };
    }, clock);
    await settle();
    expect(actor.getSnapshot().value).toBe('standby');
    clock.advance(100);
    await settle();
    expect(actor.getSnapshot().value).toBe('standby');
    taken = false;
    clock.advance(100);
    await settle();
    expect(actor.getSnapshot().value).toBe('serving');
    actor.send({ type: 'listener.stop' });
    await settle();
    expect(actor.getSnapshot().status).toBe('done');
    expect(closes).toBe(1);
    expect(states).toEqual(['binding', 'standby', 'binding', 'standby', 'binding', 'serving', 'stopped']);
  });

  it('reports other failures as unavailable and retries at the slower interval', async () => {
    const clock = new SimulatedClock();
    let attempts = 0;
    const { actor } = startListener(async () => {
      attempts++;
      throw Object.assign(new Error('bind EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    }, clock);
    await settle();
    expect(actor.getSnapshot().value).toBe('unavailable');
    clock.advance(999);
    await settle();
    expect(attempts).toBe(1);
    clock.advance(1);
    await settle();
    expect(attempts).toBe(2);
    actor.send({ type: 'listener.stop' });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('gives up a bind in flight on stop (the binder sees the abort and closes what it bound)', async () => {
    const clock = new SimulatedClock();
    let release: () => void = () => undefined;
    let aborted = false;
    const { actor } = startListener((signal) => new Promise((resolve) => {
      signal.addEventListener('abort', () => (aborted = true));
      release = () => resolve({ close: async () => undefined });
    }), clock);
    actor.send({ type: 'listener.stop' });
    release();
    await settle();
    expect(aborted).toBe(true);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('connection tracker', () => {
  const connection = (endpoint: string, protocol: 'TCP' | 'UDP', closed: string[]): TrackedConnection => ({
    service: 'default/web', portName: '', protocol, endpoint, close: () => closed.push(`${protocol} ${endpoint}`),
  });

  it('drains TCP connections of a vanished endpoint up to the bound, closes UDP sessions at once', () => {
    const clock = new SimulatedClock();
    const tracker = new ConnectionTracker(clock, 1_000);
    const closed: string[] = [];
    tracker.add(connection('a:80', 'TCP', closed));
    tracker.add(connection('b:80', 'TCP', closed));
    tracker.add(connection('a:53', 'UDP', closed));
    expect(tracker.count('default/web')).toBe(3);
    const present = new Set(['b:80']);
    tracker.reconcile('default/web', (c) => present.has(c.endpoint));
    expect(closed).toEqual(['UDP a:53']);
    clock.advance(999);
    expect(closed).toEqual(['UDP a:53']);
    clock.advance(1);
    expect(closed).toEqual(['UDP a:53', 'TCP a:80']);
  });

  it('keeps draining connections whose endpoint came back, and forgets closed ones', () => {
    const clock = new SimulatedClock();
    const tracker = new ConnectionTracker(clock, 1_000);
    const closed: string[] = [];
    const untrack = tracker.add(connection('a:80', 'TCP', closed));
    tracker.reconcile('default/web', () => false);
    clock.advance(500);
    tracker.reconcile('default/web', () => true);
    clock.advance(5_000);
    expect(closed).toEqual([]);
    untrack();
    expect(tracker.count('default/web')).toBe(0);
    expect(tracker.services()).toEqual([]);
  });
});
