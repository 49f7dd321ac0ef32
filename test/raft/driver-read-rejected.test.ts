/**
 * A linearizable read forwarded to a member that refuses it (no longer the leader) fails at once
 * with NotLeaderError, so the store client retries it on another member; before the fix the
 * refusal was dropped by the core and the read hung until its deadline (two election timeouts).
 *
 * How: three real drivers; s2 forwards a read to the leader s1, s1 steps down by check-quorum
 * before the read reaches it, then the read and s1's refusal are delivered. The simulated clock
 * never moves, so the read can only settle through the refusal, never through its deadline.
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../store/index.js';
import { defaultRaftTiming } from '../../store/index.js';
import { DriverCluster, flushPromises } from './driver-cluster.js';

describe('a rejected ReadIndex is answered at once', () => {
  it('the follower fails the pending read with NotLeaderError when the old leader refuses it', async () => {
    const cluster = new DriverCluster(['s1', 's2', 's3']);
    cluster.elect('s1');
    let outcome: unknown = 'pending';
    cluster.driver('s2').readBarrier().then(
      () => (outcome = 'served'),
      (error: unknown) => (outcome = error),
    );
    cluster.process();
    expect(cluster.queued().map((m) => `${m.from}->${m.to} ${m.type}`)).toEqual(['s2->s1 readIndex']);
    // s1 hears nobody for an election timeout and steps down; its heartbeats are lost.
    cluster.tick('s1', 2 * defaultRaftTiming.electionTicks);
    expect(cluster.driver('s1').isLeader()).toBe(false);
    cluster.drop((m) => m.from === 's1');
    cluster.stabilize();
    await flushPromises();
    expect(outcome).toBeInstanceOf(NotLeaderError);
    expect((outcome as NotLeaderError).leaderHint).toBe(null);
    expect(cluster.driver('s2').status().leader).toBe('s1');
  });
});
