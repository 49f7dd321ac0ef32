/**
 * The simulated network's faults, which the simulation relies on to find Raft bugs: one seed
 * decides every delivery (same seed → identical trace; another seed → a different one), delays
 * reorder, partitions and one-way blocks cut exactly the links they name, drops lose messages,
 * a crashed (disconnected) member loses its subscriptions, and requests time out on simulated time.
 */
import { describe, expect, it } from 'vitest';
import {
  BusTimeoutError, NoRespondersError, Prng, SimNetwork, SimulatedClock, type Bus, type SimFaults,
} from '../../bus/index.js';
import { simHarness } from './sim-harness.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const options = { pendingMax: 1_000 };

function setup(seed: number, faults?: SimFaults) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(seed), ...(faults !== undefined ? { faults } : {}) });
  return { clock, network, ...simHarness(clock) };
}

/** Three members sending to each other under heavy faults; the trace lists every delivery with its time. */
function tracedRun(seed: number): string[] {
  const { clock, network } = setup(seed, { dropRate: 0.2, duplicateRate: 0.2, delayMs: { min: 1, max: 30 } });
  const names = ['s1', 's2', 's3'];
  const buses = names.map((name) => network.connect(name));
  const trace: string[] = [];
  buses.forEach((bus, index) => bus.subscribe(`m.*.to.${names[index]}`, (m) => {
    trace.push(`${clock.now()} ${m.subject} ${new TextDecoder().decode(m.data)}`);
  }, options));
  for (let i = 0; i < 50; i++) {
    buses.forEach((bus, from) => names.forEach((to) => bus.publish(`m.${names[from]}.to.${to}`, text(String(i)))));
    clock.advance(3);
  }
  clock.advance(100);
  return trace;
}

describe('SimNetwork', () => {
  it('replays exactly from a seed, and another seed gives another run', () => {
    const first = tracedRun(42);
    expect(first.length).toBeGreaterThan(100);
    expect(tracedRun(42)).toEqual(first);
    expect(tracedRun(43)).not.toEqual(first);
  });

  it('reorders messages when delays vary, and keeps order when they do not', () => {
    const received = (faults: SimFaults): number[] => {
      const { clock, network } = setup(5, faults);
      const a = network.connect('a');
      const b = network.connect('b');
      const got: number[] = [];
      b.subscribe('seq', (m) => got.push(Number(new TextDecoder().decode(m.data))), options);
      for (let i = 0; i < 50; i++) a.publish('seq', text(String(i)));
      clock.advance(100);
      return got;
    };
    const fixed = received({ dropRate: 0, duplicateRate: 0, delayMs: { min: 2, max: 2 } });
    expect(fixed).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const varied = received({ dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 20 } });
    expect([...varied].sort((x, y) => x - y)).toEqual(fixed);
    expect(varied).not.toEqual(fixed);
  });

  it('drops and duplicates at the configured rates', () => {
    const { clock, network } = setup(9, { dropRate: 0.3, duplicateRate: 0.2, delayMs: { min: 1, max: 1 } });
    const a = network.connect('a');
    const b = network.connect('b');
    let got = 0;
    b.subscribe('x', () => { got++; }, options);
    for (let i = 0; i < 1_000; i++) a.publish('x', text('.'));
    clock.advance(10);
    const stats = network.stats();
    expect(stats.dropped).toBeGreaterThan(230);
    expect(stats.dropped).toBeLessThan(370);
    expect(stats.duplicated).toBeGreaterThan(90);
    expect(got).toBe(1_000 - stats.dropped + stats.duplicated);
  });

  it('cuts both directions between partition groups, leaves names outside the groups alone, and heals', () => {
    const { clock, network } = setup(1);
    const buses = new Map<string, Bus>(['s1', 's2', 's3', 'client'].map((name) => [name, network.connect(name)]));
    const got: string[] = [];
    for (const [name, bus] of buses) bus.subscribe(`to.${name}`, (m) => got.push(`${m.subject}`), options);
    const links = (): string[] => {
      got.length = 0;
      const seen: string[] = [];
      for (const [from, bus] of buses) {
        for (const to of buses.keys()) {
          if (from === to) continue;
          const before = got.length;
          bus.publish(`to.${to}`, text(from));
          clock.advance(5);
          if (got.length > before) seen.push(`${from}->${to}`);
        }
      }
      return seen;
    };
    network.partition([['s1'], ['s2', 's3']]);
    const cut = links();
    expect(cut).not.toContain('s1->s2');
    expect(cut).not.toContain('s2->s1');
    expect(cut).not.toContain('s3->s1');
    expect(cut).toContain('s2->s3');
    expect(cut).toContain('client->s1');
    expect(cut).toContain('s1->client');
    network.heal();
    expect(links()).toHaveLength(12);
  });

  it('blocks one direction only', () => {
    const { clock, network } = setup(1);
    const a = network.connect('a');
    const b = network.connect('b');
    const atA: string[] = [];
    const atB: string[] = [];
    a.subscribe('to.a', (m) => atA.push(new TextDecoder().decode(m.data)), options);
    b.subscribe('to.b', (m) => atB.push(new TextDecoder().decode(m.data)), options);
    network.blockOneWay('a', 'b');
    a.publish('to.b', text('lost'));
    b.publish('to.a', text('arrives'));
    clock.advance(5);
    expect(atB).toEqual([]);
    expect(atA).toEqual(['arrives']);
  });

  it('forgets a disconnected member: no delivery, no responders, until it subscribes again after reconnect', async () => {
    const { clock, network, settle } = setup(3);
    const member = network.connect('s1');
    const client = network.connect('client');
    let got = 0;
    member.subscribe('store.s1', (m) => { got++; member.respond(m, text('ok')); }, options);
    client.publish('store.s1', text('1'));
    network.disconnect('s1');
    clock.advance(5);
    expect(got).toBe(0); // in flight when it crashed: lost
    await expect(settle(client.request('store.s1', text('2'), { timeoutMs: 1_000 }), 2_000)).rejects.toBeInstanceOf(NoRespondersError);
    network.reconnect('s1');
    member.subscribe('store.s1', (m) => { got++; member.respond(m, text('back')); }, options);
    const reply = await settle(client.request('store.s1', text('3'), { timeoutMs: 1_000 }), 2_000);
    expect(new TextDecoder().decode(reply)).toBe('back');
    expect(got).toBe(1);
  });

  it('times a request out on simulated time when the reply is cut off', async () => {
    const { clock, network, settle } = setup(3);
    const member = network.connect('s1');
    const client = network.connect('client');
    member.subscribe('svc', (m) => member.respond(m, text('late')), options);
    network.blockOneWay('s1', 'client');
    const started = clock.now();
    const error = await settle(client.request('svc', text('?'), { timeoutMs: 250 }), 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusTimeoutError);
    expect(clock.now() - started).toBe(250);
  });

  it('holds a paused name\'s messages both ways, past a request deadline, and delivers them all on resume', async () => {
    const { clock, network, settle } = setup(3);
    const member = network.connect('s1');
    const peer = network.connect('s2');
    const client = network.connect('client');
    const atMember: string[] = [];
    const atPeer: string[] = [];
    member.subscribe('svc', (m) => { atMember.push(new TextDecoder().decode(m.data)); member.respond(m, text('late')); }, options);
    peer.subscribe('to.s2', (m) => atPeer.push(new TextDecoder().decode(m.data)), options);
    network.pause('s1');
    member.publish('to.s2', text('outbound'));
    const error = await settle(client.request('svc', text('inbound'), { timeoutMs: 250 }), 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusTimeoutError);
    clock.advance(1_000);
    expect(atMember).toEqual([]);
    expect(atPeer).toEqual([]);
    expect(network.stats().dropped).toBe(0);
    network.resume('s1');
    clock.advance(5);
    // Both arrive late: the request after its requester gave up (its reply then finds no one).
    expect(atMember).toEqual(['inbound']);
    expect(atPeer).toEqual(['outbound']);
    expect(network.isPaused('s1')).toBe(false);
  });

  it('matches wildcards the NATS way', () => {
    const { clock, network } = setup(1);
    const bus = network.connect('x');
    const got: string[] = [];
    bus.subscribe('kubus.c.raft.*.to.s2', (m) => got.push(`inbound ${m.subject}`), options);
    bus.subscribe('kubus.c.raft.*.to.s2.snap', (m) => got.push(`snap ${m.subject}`), options);
    bus.subscribe('kubus.c.>', (m) => got.push(`all ${m.subject}`), options);
    bus.publish('kubus.c.raft.s1.to.s2', text(''));
    bus.publish('kubus.c.raft.s1.to.s2.snap', text(''));
    bus.publish('kubus.c', text(''));
    clock.advance(5);
    expect(got).toEqual([
      'inbound kubus.c.raft.s1.to.s2', 'all kubus.c.raft.s1.to.s2',
      'snap kubus.c.raft.s1.to.s2.snap', 'all kubus.c.raft.s1.to.s2.snap',
    ]);
  });

  it('delivers only through the simulated clock, never on its own', async () => {
    const { clock, network } = setup(1);
    const a = network.connect('a');
    let got = 0;
    a.subscribe('x', () => { got++; }, options);
    a.publish('x', text(''));
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toBe(0);
    clock.advance(1);
    expect(got).toBe(1);
  });
});
