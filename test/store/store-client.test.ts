/**
 * The store client's decisions when members refuse: scripted members on the simulated network
 * answer NoQuorum, time out or succeed, and the client must fail at once when every member hears
 * no majority, never resend a write that may have applied, and never call such a write "not applied".
 * A client beside a member (`localView`) that knows it has no leader and hears no majority sends
 * no write at all and answers NoQuorum at once; one attempt that may have applied still makes the
 * call OutcomeUnknown. A client given its member's handler (`localService`) sends what targets
 * that member in process, and the same retry rules hold: NotLeader redirects over the bus, an
 * in-process attempt without an answer in time makes a write OutcomeUnknown.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, noFaults } from '../../bus/index.js';
import { serve } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { NoQuorumError, NotLeaderError, OutcomeUnknownError, StoreClient, type StoreClientOptions } from '../../store/index.js';
import { simHarness } from '../bus/sim-harness.js';

type Script = (request: { type: string }) => Promise<unknown>;

type ExtraOptions = Partial<Pick<StoreClientOptions, 'local' | 'localView' | 'attemptTimeoutMs' | 'localService'>>;

function setup(scripts: Record<string, Script | 'down'>, extra: ExtraOptions = {}) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(7), faults: noFaults });
  const calls: string[] = [];
  for (const [id, script] of Object.entries(scripts)) {
    if (script === 'down') continue;
    serve(network.connect(id), subjects('c').store(id), (raw) => {
      calls.push(id);
      return script(raw as { type: string });
    }, { concurrencyMax: 8, pendingMax: 8 });
  }
  const client = new StoreClient({ bus: network.connect('client'), cluster: 'c', members: Object.keys(scripts), clock, random: new Prng(3), ...extra });
  return { clock, client, calls, harness: simHarness(clock) };
}

const minority = (): Promise<never> => Promise.reject(new NoQuorumError(1, 3));
const never = (): Promise<never> => new Promise(() => undefined);
const put = (client: StoreClient, requestId?: string) =>
  client.put({ key: 'k', value: new Uint8Array([1]) }, { timeoutMs: 5_000, ...(requestId !== undefined ? { requestId } : {}) });

describe('StoreClient under quorum loss', () => {
  it('fails a write with NoQuorum at once when the members it reaches hear no majority and the rest are down', async () => {
    const { client, clock, harness } = setup({ s1: minority, s2: 'down', s3: 'down' });
    const started = clock.now();
    const error = await harness.settle(put(client), 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoQuorumError);
    // No grace period, no backoff: one round of asking each member (a few simulated network hops).
    expect(clock.now() - started).toBeLessThan(100);
  });

  it('keeps asking while some member may still see a majority (an election), within the grace period', async () => {
    let answered = 0;
    const { client, harness } = setup({
      s1: minority,
      s2: () => (++answered < 3 ? Promise.reject(new NoQuorumError(2, 3)) : Promise.resolve({ type: 'put', revision: 5, prevKv: null })),
      s3: 'down',
    });
    await expect(harness.settle(put(client), 5_000)).resolves.toMatchObject({ revision: 5 });
  });

  it('never resends a write without a request id after a timeout, even once another member said "no majority"', async () => {
    const { client, calls, harness } = setup({ s1: minority, s2: never, s3: minority });
    const error = await harness.settle(put(client), 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(calls.filter((id) => id === 's2')).toHaveLength(calls.includes('s2') ? 1 : 0);
  });

  it('reports an idempotent write that timed out somewhere as outcome unknown, not as refused', async () => {
    const { client, calls, harness } = setup({ s1: minority, s2: never, s3: minority });
    const error = await harness.settle(put(client, 'req-1'), 20_000).catch((e: unknown) => e);
    // s2 may be asked first or last; if it timed out the write may have applied.
    if (calls.includes('s2')) expect(error).toBeInstanceOf(OutcomeUnknownError);
    else expect(error).toBeInstanceOf(NoQuorumError);
  });
});

describe('StoreClient beside a member that is cut off', () => {
  const cutOff = () => ({ leader: null, reachable: 1, total: 3 });
  const applied = (): Promise<unknown> => Promise.resolve({ type: 'put', revision: 5, prevKv: null });
  const ranged = (): Promise<unknown> => Promise.resolve({ result: { kvs: [], more: false, count: 0, revision: 5 }, staleness: null });

  it('refuses writes (with or without a request id) with NoQuorum at once, sending nothing', async () => {
    const { client, clock, calls, harness } = setup({ s1: applied, s2: never, s3: never }, { local: 's1', localView: cutOff });
    const started = clock.now();
    for (const requestId of [undefined, 'req-1']) {
      const error = await harness.settle(put(client, requestId), 5_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoQuorumError);
      expect(error).toMatchObject({ reachable: 1, total: 3 });
    }
    expect(clock.now() - started).toBe(0);
    expect(calls).toEqual([]);
  });

  it('refuses leader-only requests but still serves serializable reads from the member', async () => {
    const { client, calls, harness } = setup({ s1: ranged, s2: never, s3: never }, { local: 's1', localView: cutOff });
    const linearizable = await harness.settle(client.range({ key: 'k' }), 5_000).catch((e: unknown) => e);
    expect(linearizable).toBeInstanceOf(NoQuorumError);
    expect(calls).toEqual([]);
    await expect(harness.settle(client.range({ key: 'k' }, { consistency: 'serializable' }), 5_000)).resolves.toMatchObject({ result: { revision: 5 } });
    expect(calls).toEqual(['s1']);
  });

  it('sends as usual while the member follows a leader, hears a majority, or has no configuration yet', async () => {
    const views = [
      { leader: 's2', reachable: 1, total: 3 },
      { leader: null, reachable: 2, total: 3 },
      { leader: null, reachable: 0, total: 0 },
    ];
    for (const view of views) {
      const { client, calls, harness } = setup({ s1: applied, s2: applied, s3: applied }, { local: 's1', localView: () => view });
      await expect(harness.settle(put(client), 5_000), JSON.stringify(view)).resolves.toMatchObject({ revision: 5 });
      expect(calls).toHaveLength(1);
    }
  });

  it('ends a call as OutcomeUnknown, not NoQuorum, when an attempt sent before the member was cut off may have applied', async () => {
    let cut = false;
    const { client, calls, harness } = setup({
      s1: () => { cut = true; return never(); },
      s2: () => { cut = true; return never(); },
      s3: () => { cut = true; return never(); },
    }, { local: 's1', localView: () => (cut ? cutOff() : { leader: 's2', reachable: 3, total: 3 }), attemptTimeoutMs: 200 });
    const error = await harness.settle(put(client, 'req-1'), 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(calls).toHaveLength(1);
  });
});

describe('StoreClient with its member in process (localService)', () => {
  const applied = (revision: number) => (): Promise<unknown> => Promise.resolve({ type: 'put', revision, prevKv: null });
  const ranged = (): Promise<unknown> => Promise.resolve({ result: { kvs: [], more: false, count: 0, revision: 5 }, staleness: null });

  it('sends reads and writes aimed at the local member in process, the rest over the bus', async () => {
    const local: string[] = [];
    const { client, calls, harness } = setup({ s1: applied(1), s2: applied(2), s3: applied(3) }, {
      local: 's1',
      localService: async (request) => {
        local.push(request.type);
        return request.type === 'range' ? ranged() : applied(9)();
      },
    });
    await harness.settle(client.range({ key: 'k' }, { consistency: 'serializable' }), 1_000);
    expect(local).toEqual(['range']);
    expect(calls).toEqual([]);
    await harness.settle(client.status('s2'), 1_000).catch(() => undefined);
    expect(calls).toEqual(['s2']);
  });

  it('follows a NotLeader from the local member to the leader over the bus', async () => {
    const local: string[] = [];
    const { client, calls, harness } = setup({ s1: applied(1), s2: applied(2), s3: 'down' }, {
      local: 's1',
      localService: async (request) => {
        local.push(request.type);
        throw new NotLeaderError('s2');
      },
    });
    await expect(harness.settle(put(client), 5_000)).resolves.toMatchObject({ revision: 2 });
    expect(calls).toEqual(['s2']);
    expect(local.length).toBeLessThanOrEqual(1);
    expect(client.currentLeaderGuess()).toBe('s2');
  });

  it('ends a write without a request id as OutcomeUnknown when the local member does not answer in time, and sends it nowhere else', async () => {
    let answered = 0;
    const { client, calls, harness } = setup({ s1: applied(1) }, {
      local: 's1', attemptTimeoutMs: 200,
      localService: () => (answered++ === 0 ? applied(7)() : never()),
    });
    await expect(harness.settle(put(client), 5_000)).resolves.toMatchObject({ revision: 7 });
    const error = await harness.settle(put(client), 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(answered).toBe(2);
    expect(calls).toEqual([]);
  });
});

describe('StoreClient reads its own writes from a follower', () => {
  it('asks a serializable read for the revision its last write or linearizable read was answered at', async () => {
    const sent: unknown[] = [];
    let revision = 4;
    const member: Script = async (request) => {
      sent.push(request);
      if (request.type === 'range') return { result: { kvs: [], more: false, count: 0, revision }, staleness: null };
      return { type: 'put', revision: ++revision, prevKv: null };
    };
    const { client, harness } = setup({ s1: member, s2: member, s3: member }, { local: 's1', localService: member });
    await harness.settle(client.range({ key: 'k' }, { consistency: 'serializable' }), 1_000);
    await harness.settle(client.put({ key: 'k', value: new Uint8Array([1]) }), 1_000);
    await harness.settle(client.range({ key: 'k' }, { consistency: 'serializable' }), 1_000);
    revision = 9;
    await harness.settle(client.range({ key: 'k' }), 1_000);
    await harness.settle(client.range({ key: 'k' }, { consistency: 'serializable' }), 1_000);
    const reads = sent.filter((request) => (request as { type: string }).type === 'range').map((request) => (request as { minRevision?: number }).minRevision);
    expect(reads).toEqual([undefined, 5, undefined, 9]);
    expect(client.lastSeenRevision()).toBe(9);
  });
});
