/**
 * Read-your-own-writes on a follower (store/revision-wait.ts): a serializable read "at least at
 * revision R" waits until the member applied R, and never longer than its bound or once the
 * member knows no leader. Real drivers, the network in the test's hands (driver-cluster.ts).
 */
import { describe, expect, it } from 'vitest';
import { RevisionWaits, revisionWaitLimits } from '../../store/revision-wait.js';
import { DriverCluster, testTiming } from './driver-cluster.js';

const ids = ['s1', 's2', 's3'];

/** A put acknowledged by the leader s1 whose commit s2 has not heard of yet. */
async function writeAheadOfS2(cluster: DriverCluster): Promise<number> {
  const written = cluster.driver('s1').write({ type: 'put', request: { key: 'k', value: new Uint8Array([1]) } }, null);
  cluster.flush();
  // Appends out, acknowledgements back: the leader commits and answers; the commit index it then
  // sends stays in flight.
  cluster.deliver((m) => m.from === 's1');
  cluster.deliver((m) => m.to === 's1');
  await cluster.settle();
  return (await written).revision;
}

function started(): { cluster: DriverCluster; waits: RevisionWaits; settled: (promise: Promise<void>) => () => boolean } {
  const cluster = new DriverCluster(ids, 7);
  for (const id of ids) cluster.start(id, ids);
  cluster.elect('s1');
  const waits = new RevisionWaits(cluster.driver('s2'), cluster.clock);
  waits.start();
  const settled = (promise: Promise<void>) => {
    let done = false;
    void promise.then(() => { done = true; });
    return () => done;
  };
  return { cluster, waits, settled };
}

describe('RevisionWaits (a follower reads what its client just wrote)', () => {
  it('holds a read until the follower applied the revision, then serves it', async () => {
    const { cluster, waits, settled } = started();
    const revision = await writeAheadOfS2(cluster);
    expect(cluster.driver('s2').status().revision).toBeLessThan(revision);
    const done = settled(waits.until(revision));
    await cluster.settle();
    expect(done()).toBe(false);
    cluster.stabilize();
    await cluster.settle();
    expect(cluster.driver('s2').status().revision).toBe(revision);
    expect(done()).toBe(true);
    const read = await cluster.driver('s2').read({ key: 'k' }, 'serializable');
    expect(read.result.kvs.map((kv) => kv.key)).toEqual(['k']);
  });

  it('answers at once when the member already applied it, and after its bound when it cannot catch up', async () => {
    const { cluster, waits, settled } = started();
    const applied = cluster.driver('s2').status().revision;
    const atOnce = settled(waits.until(applied));
    await cluster.settle();
    expect(atOnce()).toBe(true);
    const revision = await writeAheadOfS2(cluster);
    cluster.drop(() => true);
    const done = settled(waits.until(revision));
    for (let elapsed = 0; elapsed < revisionWaitLimits.catchUpMs - testTiming.tickMs; elapsed += testTiming.tickMs) {
      cluster.clock.advance(testTiming.tickMs);
      waits.tick();
      await cluster.settle();
      expect(done()).toBe(false);
    }
    cluster.clock.advance(2 * testTiming.tickMs);
    waits.tick();
    await cluster.settle();
    expect(done()).toBe(true);
    expect(cluster.driver('s2').status().revision).toBeLessThan(revision);
  });

  it('does not wait on a member that knows no leader, and releases waiting reads when it loses it', async () => {
    const { cluster, waits, settled } = started();
    const revision = await writeAheadOfS2(cluster);
    cluster.drop(() => true);
    const held = settled(waits.until(revision));
    // s2 hears nothing until its election timeout: it campaigns, so it knows no leader.
    cluster.tick('s2', 2 * testTiming.electionTicks + 1);
    cluster.drop(() => true);
    await cluster.settle();
    expect(cluster.driver('s2').status().leader).toBeNull();
    expect(held()).toBe(true);
    const later = settled(waits.until(revision + 1));
    await cluster.settle();
    expect(later()).toBe(true);
  });
});
