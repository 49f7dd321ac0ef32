/**
 * The simulated cluster's own faults and reports: a member that cannot start is reported (the
 * seed then fails) instead of being dropped silently, and a power cut at a log sync crashes the
 * member, whose disk keeps what was synced (and maybe part of the cut write), and which restarts
 * from it (its state machine rebuilt from the log); a durable state-machine transaction a power
 * cut interrupts keeps nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../scenarios/sim/sim-cluster.js';
import { PowerCut, SimDisk } from '../../scenarios/sim/sim-disk.js';
import { simTiming } from '../../scenarios/sim/run-seed.js';
import { Prng } from '../../bus/prng.js';
import { StoreClient, type LoadedRaftLog } from '../../store/index.js';

const cluster = (members: number): SimCluster => new SimCluster({ seed: 7, members, timing: simTiming, snapshotEveryEntries: 64 });

describe('SimCluster', () => {
  it('reports a member that fails to start (corrupted disk) as a problem', async () => {
    const sim = cluster(1);
    await sim.startAll();
    await sim.run(300, 2);
    expect(sim.problems).toEqual([]);
    sim.crash('s1');
    const disk = sim.disk('s1');
    disk.writeSync(() => disk.table('meta').put(new TextEncoder().encode('raft/applied'), new Uint8Array([1, 2, 3])));
    sim.start('s1');
    await sim.run(20, 2);
    expect(sim.problems).toHaveLength(1);
    expect(sim.problems[0]).toMatch(/^s1: member failed: CorruptedDataError: /);
  });

  it('crashes a member whose log sync loses power; its disk keeps what was synced, maybe part of the cut write', async () => {
    const sim = cluster(1);
    await sim.startAll();
    await sim.run(300, 2);
    expect(sim.driver('s1')?.isLeader()).toBe(true);
    const lastIndex = lastIndexOf(sim.disk('s1').storedLog('written'));
    sim.disk('s1').cutPowerOnNextDurableWrite();
    const client = new StoreClient({ bus: sim.network.connect('c'), cluster: sim.cluster, members: ['s1'], clock: sim.clock, random: sim.random.fork(), callTimeoutMs: 100 });
    const put = client.put({ key: 'a', value: new Uint8Array([1]) }).catch((error: unknown) => error);
    await sim.run(20, 2);
    expect(sim.powerCuts).toBe(1);
    expect(sim.isUp('s1')).toBe(false);
    expect(lastIndexOf(sim.disk('s1').storedLog('written'))).toBeGreaterThanOrEqual(lastIndex);
    expect(lastIndexOf(sim.disk('s1').storedLog('written'))).toBeLessThanOrEqual(lastIndex + 1);
    sim.start('s1');
    await sim.run(300, 2);
    expect(sim.problems).toEqual([]);
    expect(sim.driver('s1')?.isLeader()).toBe(true);
    await put;
  });

  it('rolls back the transaction a power cut interrupts', () => {
    const disk = new SimDisk('s9', new Prng(9));
    const key = new TextEncoder().encode('k');
    disk.writeSync(() => disk.table('mvcc').put(key, new Uint8Array([1])));
    disk.cutPowerOnNextDurableWrite();
    expect(() => disk.writeSync(() => disk.table('mvcc').put(key, new Uint8Array([2])))).toThrow(PowerCut);
    expect(disk.table('mvcc').get(key)).toEqual(new Uint8Array([1]));
    expect(disk.reopen('kill').table('mvcc').get(key)).toEqual(new Uint8Array([1]));
  });
});

function lastIndexOf(log: LoadedRaftLog): number {
  return log.entries[log.entries.length - 1]?.index ?? log.snapshot?.meta.index ?? 0;
}
