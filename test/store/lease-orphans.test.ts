/**
 * No orphan leases (issue 9, defect C). A grant that the old leader proposed and the new leader
 * applies only after it took over must still expire: the leader arms a timer for every lease its
 * state machine holds, not only for those present when it was promoted. And a grant retried with
 * its request id gives the first grant's lease, not a second lease.
 *
 * A lease hit by three leader changes still expires within its TTL plus two election timeouts
 * (each new leader times it from when it learned the last checkpoint, not from its promotion),
 * and a keep-alive answered before a leader change is not lost with the old leader.
 *
 * Real members on simulated time and network (test/store/member-harness.ts). The orphan is made
 * deterministically: the leader proposes the grant and is crashed once both followers have
 * appended it but before their acknowledgements reach it, so nobody had applied the grant when a
 * follower won the next election.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../store/memory-backend.js';
import { LeaseKeeper } from '../../store/mvcc/index.js';
import { harnessTiming, MemberHarness } from './member-harness.js';

const ids = ['s1', 's2', 's3'];
/** The longest randomized election timeout: twice electionTicks. */
const electionTimeoutMaxMs = 2 * harnessTiming.electionTicks * harnessTiming.tickMs;

describe('lease timers across leader changes', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  function threeMembers(): MemberHarness {
    const disks = new Map(ids.map((id) => [id, new MemoryBackend()]));
    harness = new MemberHarness({ ids, seed: 7, openBackend: (id) => disks.get(id) as MemoryBackend });
    for (const id of ids) harness.start(id);
    return harness;
  }

  it('a grant applied after a leader change still expires within TTL + 2 election timeouts', async () => {
    const h = threeMembers();
    const oldLeader = await h.waitForLeader();
    const followers = ids.filter((id) => id !== oldLeader);
    const ttlMs = 2_000;
    const proposedAtMs = h.clock.now();
    const grant = h.client.leaseGrant(4242, ttlMs);
    grant.catch(() => undefined);
    const leaderLast = (): number => h.driver(oldLeader)?.raftStatus().lastIndex ?? 0;
    const startLast = leaderLast();
    await h.until('the old leader appended the grant', () => leaderLast() > startLast, 1_000);
    const grantIndex = leaderLast();
    await h.until('both followers appended it', () => followers.every((id) => (h.driver(id)?.raftStatus().lastIndex ?? 0) >= grantIndex), 1_000);
    // Nobody applied it yet; the leader never hears the acknowledgements.
    for (const id of ids) expect(h.driver(id)?.mvcc.lease(4242)).toBeNull();
    h.crash(oldLeader);
    await h.until('a new leader applied the grant', () => followers.some((id) => h.driver(id)?.isLeader() === true && h.driver(id)?.mvcc.lease(4242) !== null), 2_000);
    const newLeader = followers.find((id) => h.driver(id)?.isLeader() === true) as string;
    await h.until('the lease expired and was revoked', () => h.driver(newLeader)?.mvcc.lease(4242) === null, ttlMs + 2 * electionTimeoutMaxMs);
    expect(h.clock.now() - proposedAtMs).toBeLessThanOrEqual(ttlMs + 2 * electionTimeoutMaxMs);
    for (const id of followers) await h.until(`${id} applied the revocation`, () => h.driver(id)?.mvcc.lease(4242) === null, 1_000);
  });

  it('a lease hit by three leader changes still expires within TTL + 2 election timeouts', async () => {
    const h = threeMembers();
    await h.waitForLeader();
    const ttlMs = 3_000;
    await h.settle(h.client.leaseGrant(77, ttlMs));
    const grantedAtMs = h.clock.now();
    for (let change = 0; change < 3; change++) {
      await h.run(400);
      const leader = await h.waitForLeader();
      h.crash(leader);
      await h.until(`leader change ${change + 1}`, () => h.leader() !== null, 2_000);
      h.start(leader);
    }
    const live = (): string[] => ids.filter((id) => h.state(id) !== 'down');
    await h.until('the lease was revoked', () => live().every((id) => h.driver(id)?.mvcc.lease(77) === null), 10_000);
    expect(h.clock.now() - grantedAtMs).toBeLessThanOrEqual(ttlMs + 2 * electionTimeoutMaxMs);
  });

  it('a keep-alive is replicated before it is answered, so the next leader keeps the renewed TTL', async () => {
    const h = threeMembers();
    const leader = await h.waitForLeader();
    const ttlMs = 3_000;
    await h.settle(h.client.leaseGrant(88, ttlMs));
    await h.run(2_000);
    expect(await h.settle(h.client.leaseKeepAlive(88))).toEqual({ id: 88, remainingMs: ttlMs });
    const renewedAtMs = h.clock.now();
    h.crash(leader);
    await h.until('a new leader', () => h.leader() !== null, 2_000);
    // Without the replicated renewal the next leader would time the lease from the grant.
    await h.run(renewedAtMs + ttlMs - 100 - h.clock.now());
    expect(h.driver(h.leader() as string)?.mvcc.lease(88)).not.toBeNull();
    await h.until('the lease expired', () => h.driver(h.leader() as string)?.mvcc.lease(88) === null, 2 * electionTimeoutMaxMs + 200);
  });

  it('a grant retried with its request id gives the first lease, not a second one', async () => {
    const h = threeMembers();
    const leader = await h.waitForLeader();
    const first = await h.settle(h.client.leaseGrant(0, 5_000, { requestId: 'grant-1' }));
    const again = await h.settle(h.client.leaseGrant(0, 5_000, { requestId: 'grant-1' }));
    expect(again).toEqual(first);
    expect(h.driver(leader)?.mvcc.leases().map((lease) => lease.id)).toEqual([(first as { id: number }).id]);
  });
});

describe('LeaseKeeper.adopt', () => {
  it('times leases it does not know from their remaining time, keeps running timers, drops the gone', () => {
    const keeper = new LeaseKeeper();
    keeper.promote(0, [{ id: 1, ttlMs: 5_000, remainingMs: 5_000 }, { id: 2, ttlMs: 5_000, remainingMs: 5_000 }]);
    keeper.adopt(1_000, [{ id: 1, ttlMs: 5_000, remainingMs: 5_000 }, { id: 3, ttlMs: 4_000, remainingMs: 2_500 }]);
    expect(keeper.remaining(1, 1_000)).toBe(4_000);
    expect(keeper.remaining(2, 1_000)).toBeNull();
    expect(keeper.remaining(3, 1_000)).toBe(2_500);
    expect(keeper.expired(3_500)).toEqual([3]);
  });
});
