/**
 * Typed request/reply on the simulated network: values come back decoded, a KubusError thrown by
 * a handler is rebuilt as the same class with its fields on the caller's side, other failures
 * arrive as `internal` RemoteErrors, and a server bounded by concurrencyMax and pendingMax drops
 * what it cannot hold, which the caller sees as a timeout.
 */
import { describe, expect, it } from 'vitest';
import {
  BusTimeoutError, NoRespondersError, Prng, RemoteError, SimNetwork, SimulatedClock, call, serve,
} from '../../bus/index.js';
import { NoQuorumError, NotLeaderError, storeErrorFactories } from '../../store/errors.js';
import { simHarness } from './sim-harness.js';

function setup() {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(11) });
  return { clock, network, client: network.connect('client'), member: network.connect('s1'), ...simHarness(clock) };
}

describe('rpc call/serve', () => {
  it('returns the handler value, binary included', async () => {
    const { client, member, settle } = setup();
    serve(member, 'svc', (request) => ({ got: request, bytes: new Uint8Array([1, 2, 3]) }), { pendingMax: 4, concurrencyMax: 2 });
    const reply = await settle(call<{ got: unknown; bytes: Uint8Array }>(client, 'svc', { a: 1 }, { timeoutMs: 500 }), 1_000);
    expect(reply.got).toEqual({ a: 1 });
    expect([...reply.bytes]).toEqual([1, 2, 3]);
  });

  it('rebuilds typed errors with their fields, and keeps unknown codes as RemoteError', async () => {
    const { client, member, settle } = setup();
    serve(member, 'svc', async (request) => {
      const kind = (request as { kind: string }).kind;
      if (kind === 'notLeader') throw new NotLeaderError('s3');
      if (kind === 'noQuorum') throw new NoQuorumError(1, 3);
      throw new TypeError('boom');
    }, { pendingMax: 4, concurrencyMax: 2 });
    const failure = (kind: string, factories = storeErrorFactories) =>
      settle(call(client, 'svc', { kind }, { timeoutMs: 500, errorFactories: factories }), 1_000).catch((error: unknown) => error);

    const notLeader = await failure('notLeader');
    expect(notLeader).toBeInstanceOf(NotLeaderError);
    expect((notLeader as NotLeaderError).leaderHint).toBe('s3');
    const noQuorum = await failure('noQuorum');
    expect(noQuorum).toBeInstanceOf(NoQuorumError);
    expect((noQuorum as NoQuorumError).reachable).toBe(1);
    const unknown = await failure('noQuorum', {});
    expect(unknown).toBeInstanceOf(RemoteError);
    expect((unknown as RemoteError).code).toBe('noQuorum');
    expect((unknown as RemoteError).fields()).toEqual({ reachable: 1, total: 3 });
    const internal = await failure('bug');
    expect(internal).toBeInstanceOf(RemoteError);
    expect((internal as RemoteError).code).toBe('internal');
    expect((internal as RemoteError).message).toContain('TypeError: boom');
  });

  it('passes bus errors through: no responders, timeouts', async () => {
    const { client, member, settle } = setup();
    await expect(settle(call(client, 'nobody', {}, { timeoutMs: 500 }), 1_000)).rejects.toBeInstanceOf(NoRespondersError);
    serve(member, 'slow', () => new Promise(() => undefined), { pendingMax: 1, concurrencyMax: 1 });
    await expect(settle(call(client, 'slow', {}, { timeoutMs: 300 }), 1_000)).rejects.toBeInstanceOf(BusTimeoutError);
  });

  it('runs at most concurrencyMax handlers, queues pendingMax more, drops the rest', async () => {
    const { client, member, settle, waitFor } = setup();
    const release: (() => void)[] = [];
    let started = 0;
    const server = serve(member, 'work', (request) => {
      started++;
      return new Promise((resolve) => release.push(() => resolve(request)));
    }, { pendingMax: 2, concurrencyMax: 2 });
    const calls = Array.from({ length: 6 }, (_, i) =>
      call<number>(client, 'work', i, { timeoutMs: 1_000 }).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
    await waitFor(() => started === 2, 100);
    expect(server.inFlight()).toBe(2);
    expect(server.droppedCount()).toBe(2);
    // Releasing the running handlers lets the two queued requests in, one slot each.
    while (release.length > 0 || started < 4) {
      release.shift()?.();
      await waitFor(() => true, 5);
    }
    const outcomes = await settle(Promise.all(calls), 2_000);
    expect(started).toBe(4);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(4);
    expect(outcomes.filter((o) => !o.ok && o.error instanceof BusTimeoutError)).toHaveLength(2);
    server.stop();
  });

  it('stops answering after stop()', async () => {
    const { client, member, settle } = setup();
    const server = serve(member, 'svc', () => 1, { pendingMax: 4, concurrencyMax: 1 });
    await expect(settle(call(client, 'svc', {}, { timeoutMs: 300 }), 1_000)).resolves.toBe(1);
    server.stop();
    await expect(settle(call(client, 'svc', {}, { timeoutMs: 300 }), 1_000)).rejects.toBeInstanceOf(NoRespondersError);
  });
});
