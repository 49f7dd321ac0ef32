/**
 * A linearizable read that its leader had not confirmed yet when leadership moved to another
 * member fails at once with NotLeaderError (hint: the new leader): the old leader dropped it when
 * it stepped down (or a follower's forwarded read went to a leader that will never answer it in
 * the new term), so waiting could only end at the deadline. Reads already confirmed (with an
 * index) still complete. Before the fix such reads hung for two election timeouts.
 *
 * How: three real drivers; a read reaches the leader s1, whose heartbeat round for it is lost,
 * then s1 hands leadership to s3. The reader misses s3's vote request, so it goes from "s1 leads"
 * straight to "s3 leads" on s3's first append, without the leaderless moment that already failed
 * every pending read. The simulated clock never moves, so only the leader change can settle it.
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../store/index.js';
import { DriverCluster, flushPromises } from './driver-cluster.js';

async function readAcrossTransfer(reader: 's1' | 's2'): Promise<unknown> {
  const cluster = new DriverCluster(['s1', 's2', 's3']);
  cluster.elect('s1');
  let outcome: unknown = 'pending';
  cluster.driver(reader).readBarrier().then(
    () => (outcome = 'served'),
    (error: unknown) => (outcome = error),
  );
  cluster.process();
  // The leader starts the confirmation round; its heartbeats are lost.
  cluster.deliver((m) => m.type === 'readIndex');
  cluster.drop((m) => m.type === 'heartbeat');
  cluster.driver('s1').transferLeadership('s3');
  cluster.process();
  const voter = reader === 's1' ? 's2' : 's1';
  for (let round = 0; round < 100 && cluster.queued().length > 0; round++) {
    cluster.drop((m) => m.type === 'vote' && m.to === reader);
    cluster.deliver();
  }
  await flushPromises();
  expect(cluster.driver(voter).status().term).toBe(3);
  expect([cluster.driver('s3').isLeader(), cluster.driver(reader).status().leader]).toEqual([true, 's3']);
  return outcome;
}

describe('a read not yet confirmed when leadership moves fails at once', () => {
  it("a follower's forwarded read", async () => {
    const outcome = await readAcrossTransfer('s2');
    expect(outcome).toBeInstanceOf(NotLeaderError);
    expect((outcome as NotLeaderError).leaderHint).toBe('s3');
  });

  it("the old leader's own read", async () => {
    const outcome = await readAcrossTransfer('s1');
    expect(outcome).toBeInstanceOf(NotLeaderError);
    expect((outcome as NotLeaderError).leaderHint).toBe('s3');
  });
});
