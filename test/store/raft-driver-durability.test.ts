/**
 * Defect A, through the real driver: nothing a member sends may promise state its disk does not
 * hold. At the moment each batch is sent, the sender's durable state (what a power cut would
 * leave: `MemoryBackend.reopen()`) must already hold the message's term, a granted or requested
 * vote, and, for appends and heartbeats, the commit index they announce. A leader's appends may
 * still leave before its disk write (Raft thesis 10.2.1) when its term and vote are unchanged;
 * the second test keeps that fast path.
 *
 * Before the fix a single voter committed at append time and its early append to a learner
 * carried that commit; and the Ready of an election sent its term before it was durable.
 */
import { describe, expect, it } from 'vitest';
import { RaftLogStore } from '../../store/raft-log-store.js';
import type { WriteCommand } from '../../store/mvcc/types.js';
import type { MemberId, Message } from '../../store/raft/types.js';
import { DriverCluster } from './driver-cluster.js';

function put(key: string, value: string): WriteCommand {
  return { type: 'put', request: { key, value: new TextEncoder().encode(value) } };
}

/** Records every message sent ahead of the durable state it depends on. */
type Append = Extract<Message, { type: 'append' }>;

function watchDurability(cluster: DriverCluster): { violations: string[]; checked: () => number; early: Append[] } {
  const violations: string[] = [];
  /** Appends that left before their entries were on the sender's disk. */
  const early: Append[] = [];
  let checked = 0;
  cluster.onSend = (from: MemberId, messages: readonly Message[]) => {
    const durable = new RaftLogStore(cluster.durableBackend(from));
    const { hardState } = durable.load();
    const lastIndex = durable.lastIndex();
    for (const m of messages) {
      checked++;
      const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
      // Pre-votes are asked and granted in the future term without moving anyone's term.
      const prospective = m.type === 'preVote' || m.type === 'preVoteResponse';
      if (!prospective && m.term > hardState.term) violations.push(`${head}: durable term is ${hardState.term}`);
      if ((m.type === 'append' || m.type === 'heartbeat') && m.commit > lastIndex) violations.push(`${head} commit=${m.commit}: durable log ends at ${lastIndex}`);
      if (m.type === 'vote' && hardState.vote !== from) violations.push(`${head}: durable vote is ${hardState.vote ?? '-'}`);
      if (m.type === 'voteResponse' && !m.reject && hardState.vote !== m.to) violations.push(`${head} granted: durable vote is ${hardState.vote ?? '-'}`);
      if (m.type === 'append' && m.entries.some((entry) => entry.index > lastIndex)) early.push(m);
    }
  };
  return { violations, checked: () => checked, early };
}

describe('a member sends nothing its disk does not hold yet (defect A)', () => {
  it('growing 1 -> 3 from a single voter through learners, with a power cut of the voter', async () => {
    const cluster = new DriverCluster(['s1', 's2', 's3'], 1);
    const watch = watchDurability(cluster);
    cluster.start('s1', ['s1']);
    cluster.start('s2', []);
    cluster.start('s3', []);
    cluster.elect('s1');
    const s1 = (): ReturnType<DriverCluster['driver']> => cluster.driver('s1');
    const run = async <T>(call: () => Promise<T>): Promise<T> => {
      const done = call();
      cluster.stabilize();
      await cluster.settle();
      return done;
    };
    const writes = async (tag: string): Promise<void> => {
      // Three at once: one Ready hands them out together.
      const done = [1, 2, 3].map((i) => s1().write(put(`k${i}`, `${tag}${i}`), null));
      cluster.stabilize();
      await cluster.settle();
      await Promise.all(done);
    };

    await run(() => s1().changeMembership({ type: 'addLearner', member: 's2' }));
    await writes('a');
    cluster.crash('s1');
    cluster.start('s1', ['s1']);
    cluster.elect('s1');
    await writes('b');
    await run(() => s1().changeMembership({ type: 'promote', member: 's2' }));
    await writes('c');
    await run(() => s1().changeMembership({ type: 'addLearner', member: 's3' }));
    await writes('d');
    await run(() => s1().changeMembership({ type: 'promote', member: 's3' }));
    await writes('e');

    expect(watch.violations).toEqual([]);
    expect(watch.checked()).toBeGreaterThan(30);
    for (const id of ['s1', 's2', 's3']) {
      const result = await cluster.driver(id).read({ key: 'k', end: 'l' }, 'serializable');
      expect(result.result.kvs.map((kv) => new TextDecoder().decode(kv.value))).toEqual(['e1', 'e2', 'e3']);
    }
    expect(s1().status().conf).toEqual({ voters: ['s1', 's2', 's3'], learners: [] });
  });

  it('a leader of three voters still sends its appends before its own disk write', async () => {
    const cluster = new DriverCluster(['s1', 's2', 's3'], 2);
    const watch = watchDurability(cluster);
    for (const id of ['s1', 's2', 's3']) cluster.start(id, ['s1', 's2', 's3']);
    cluster.elect('s1');
    const done = cluster.driver('s1').write(put('k', 'v'), null);
    cluster.stabilize();
    await cluster.settle();
    await done;
    expect(watch.violations).toEqual([]);
    // The write's entry went out to both followers while the leader's disk did not hold it yet.
    const writeIndex = cluster.driver('s1').status().lastIndex;
    expect(watch.early.filter((m) => m.entries.some((entry) => entry.index === writeIndex)).map((m) => m.to).sort()).toEqual(['s2', 's3']);
  });
});
