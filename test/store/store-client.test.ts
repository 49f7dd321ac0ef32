/**
 * The store client's decisions when members refuse: scripted members on the simulated network
 * answer NoQuorum, time out or succeed, and the client must fail at once when every member hears
 * no majority, never resend a write that may have applied, and never call such a write "not applied".
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, noFaults } from '../../bus/index.js';
import { serve } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { NoQuorumError, OutcomeUnknownError, StoreClient } from '../../store/index.js';
import { simHarness } from '../bus/sim-harness.js';

type Script = (request: { type: string }) => Promise<unknown>;

function setup(scripts: Record<string, Script | 'down'>) {
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
  const client = new StoreClient({ bus: network.connect('client'), cluster: 'c', members: Object.keys(scripts), clock, random: new Prng(3) });
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
