/**
 * The API's store client inside a member: requests to its own member go to that member's driver
 * (reads) or its own handler (writes) in process; requests to other members, and everything
 * before the driver exists, still go over the bus, and the StoreClient's retry rules still apply.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, noFaults } from '../../bus/index.js';
import { serve } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { NoQuorumError, type RaftDriver, type StoreRequest } from '../../store/index.js';
import { MemberStoreClient, type LocalMember } from '../../actors/apiserver/registry/member-store-client.js';
import { simHarness } from '../bus/sim-harness.js';

const kv = { key: 'k', createRevision: 1, modRevision: 2, version: 1, lease: 0, value: new Uint8Array([7]) };

function setup(options: { driver?: 'none' | 'ok' | 'noQuorum'; localWrite?: boolean } = {}) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(7), faults: noFaults });
  const overBus: string[] = [];
  const inProcess: string[] = [];
  for (const id of ['s1', 's2']) {
    serve(network.connect(id), subjects('c').store(id), (raw) => {
      const request = raw as StoreRequest;
      overBus.push(`${id}:${request.type}`);
      return Promise.resolve(request.type === 'range' ? { result: { kvs: [{ ...kv, modRevision: 9 }], count: 1, more: false, revision: 9 }, staleness: null } : { type: 'put', revision: 9, prevKv: null });
    }, { concurrencyMax: 8, pendingMax: 8 });
  }
  const driver = {
    read: (_request: unknown, consistency: string) => {
      inProcess.push(`read:${consistency}`);
      if (options.driver === 'noQuorum') return Promise.reject(new NoQuorumError(1, 2));
      return Promise.resolve({ result: { kvs: [kv], count: 1, more: false, revision: 2 }, staleness: null });
    },
  } as unknown as RaftDriver;
  const member: LocalMember = {
    id: 's1',
    driver: () => (options.driver === undefined || options.driver === 'none' ? null : driver),
    ...(options.localWrite === true ? {
      handle: (request: StoreRequest) => {
        inProcess.push(request.type === 'write' ? `write:${request.command.type}` : `handle:${request.type}`);
        return Promise.resolve({ type: 'put', revision: 3, prevKv: null });
      },
    } : {}),
  };
  const client = new MemberStoreClient({ bus: network.connect('api'), cluster: 'c', members: ['s1', 's2'], clock, random: new Prng(3) }, member);
  return { client, overBus, inProcess, harness: simHarness(clock) };
}

describe('MemberStoreClient', () => {
  it('answers reads to its own member from the driver, without the bus', async () => {
    const { client, overBus, inProcess, harness } = setup({ driver: 'ok' });
    await expect(harness.settle(client.get('k', { consistency: 'serializable' }), 1_000)).resolves.toMatchObject({ modRevision: 2 });
    expect(inProcess).toEqual(['read:serializable']);
    expect(overBus).toEqual([]);
  });

  it('uses the bus while its member has no driver yet', async () => {
    const { client, overBus, inProcess, harness } = setup({ driver: 'none' });
    await expect(harness.settle(client.get('k', { consistency: 'serializable' }), 1_000)).resolves.toMatchObject({ modRevision: 9 });
    expect(inProcess).toEqual([]);
    expect(overBus).toEqual(['s1:range']);
  });

  it('moves on to another member over the bus when its own refuses, as any client would', async () => {
    const { client, overBus, inProcess, harness } = setup({ driver: 'noQuorum' });
    await expect(harness.settle(client.get('k', { consistency: 'serializable' }), 5_000)).resolves.toMatchObject({ modRevision: 9 });
    expect(inProcess).toEqual(['read:serializable']);
    expect(overBus).toEqual(['s2:range']);
  });

  it('sends writes over the bus unless its member hands it its request handler', async () => {
    const plain = setup({ driver: 'ok' });
    await plain.harness.settle(plain.client.put({ key: 'k', value: new Uint8Array([1]) }, { requestId: 'r1' }), 5_000);
    expect(plain.inProcess).toEqual([]);
    expect(plain.overBus).toHaveLength(1);

    const local = setup({ driver: 'ok', localWrite: true });
    // The first write goes to a member at random; once s1 answered it is the leader guess and every later write stays in process.
    for (let i = 0; i < 4; i++) await local.harness.settle(local.client.put({ key: `k${i}`, value: new Uint8Array([1]) }, { requestId: `r${i}` }), 5_000);
    expect(local.inProcess.length + local.overBus.length).toBe(4);
    expect(local.inProcess.filter((call) => call === 'write:put').length).toBeGreaterThan(0);
  });
});
