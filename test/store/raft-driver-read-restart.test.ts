/**
 * Defect B: a linearizable read must not be answered stale after its member restarted. A read's
 * context names it to the leader; the leader answers the first pending read whose context matches.
 * Contexts were `<member>:<counter>` with the counter starting again at 1 on every start, so a
 * restarted follower's first read carried the same context as its old read still pending at the
 * leader, and was answered with the old read's index, from before writes acknowledged since.
 *
 * How: real drivers with the network in the test's hands. s2's read reaches the leader s1, whose
 * heartbeat round for it is lost, so it stays pending; s2 loses power; v2 is written and
 * acknowledged by s1 and s3; s2 comes back behind, learns the leader, and reads again while the
 * leader's messages to it are held, so that s3 alone confirms the round. The read may complete only
 * once s2 applied v2; before the fix s3's confirmation released the old read's index to the new read.
 */
import { describe, expect, it } from 'vitest';
import type { RaftDriver } from '../../store/raft-driver.js';
import type { WriteCommand } from '../../store/mvcc/types.js';
import { DriverCluster } from './driver-cluster.js';

const ids = ['s1', 's2', 's3'];

function put(key: string, value: string): WriteCommand {
  return { type: 'put', request: { key, value: new TextEncoder().encode(value) } };
}

function valueOf(driver: RaftDriver, key: string): string | null {
  const [kv] = driver.mvcc.range({ key }).kvs;
  return kv === undefined ? null : new TextDecoder().decode(kv.value);
}

async function write(cluster: DriverCluster, command: WriteCommand): Promise<void> {
  const done = cluster.driver('s1').write(command, null);
  cluster.stabilize();
  await cluster.settle();
  await done;
}

describe('a read after a restart is not answered with an older read of the same member (defect B)', () => {
  it("a restarted follower's new read waits for writes acknowledged before it", async () => {
    const cluster = new DriverCluster(ids, 3);
    for (const id of ids) cluster.start(id, ids);
    cluster.elect('s1');
    await write(cluster, put('k', 'v1'));
    expect(valueOf(cluster.driver('s2'), 'k')).toBe('v1');

    // s2's read reaches the leader, but the heartbeat round that would confirm it is lost.
    const old = cluster.driver('s2').readBarrier();
    const oldOutcome = old.then(() => 'served', (error: Error) => error.name);
    cluster.flush();
    expect(cluster.deliver((m) => m.type === 'readIndex')).toBe(1);
    cluster.drop((m) => m.type === 'heartbeat');
    expect(cluster.inFlight).toEqual([]);

    cluster.crash('s2');
    expect(await oldOutcome).toBe('StoreStoppedError');
    await write(cluster, put('k', 'v2'));

    // s2 comes back behind and learns the leader from a heartbeat; the other messages are lost.
    cluster.start('s2', ids);
    cluster.tick('s1');
    expect(cluster.deliver((m) => m.type === 'heartbeat' && m.to === 's2')).toBe(1);
    cluster.drop(() => true);
    expect(cluster.driver('s2').status().leader).toBe('s1');
    expect(valueOf(cluster.driver('s2'), 'k')).toBe('v1');

    // A new read. The leader's appends and heartbeats to s2 are held back: s2 stays behind, and
    // s3 alone confirms the leader's heartbeat round for the read.
    let served: string | null = null;
    const read = cluster.driver('s2').readBarrier().then(() => (served = valueOf(cluster.driver('s2'), 'k')));
    cluster.stabilize((m) => !(m.to === 's2' && (m.type === 'append' || m.type === 'snapshot' || m.type === 'heartbeat')));
    await cluster.settle();
    expect(served).toBeNull();

    // A heartbeat round reaches everyone, appends to s2 are still held: still nothing to serve.
    cluster.tick('s1');
    cluster.stabilize((m) => !(m.to === 's2' && (m.type === 'append' || m.type === 'snapshot')));
    await cluster.settle();
    expect(served).toBeNull();

    // Once s2 catches up (the leader's next heartbeat finds it behind), the read completes: v2.
    cluster.tick('s1');
    cluster.stabilize();
    await cluster.settle();
    await read;
    expect(served).toBe('v2');
  });
});
