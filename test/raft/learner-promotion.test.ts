/**
 * The leader promotes a learner only once it has caught up (etcd refuses such a promote too):
 * the learner answers this leader, is being replicated to, needs no snapshot, and is at most
 * `learnerCatchUpEntriesMax` entries behind the leader's last index. Otherwise the proposal is
 * refused with LearnerNotReadyError (its match and the leader's last index), nothing is appended,
 * and the same promotion succeeds once the learner has caught up. Before the fix every one of the
 * refusals below was accepted: a voter that could not yet acknowledge anything joined the quorum.
 *
 * How: a 3-voter cluster with learner s4 in the interaction environment; s4 is cut off while the
 * leader's log grows past the bound or is compacted past s4, then the network heals.
 */
import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from '../../bus/errors.js';
import { LearnerNotReadyError, storeErrorFactories } from '../../store/index.js';
import { raftLimits } from '../../store/raft/limits.js';
import { InteractionEnv } from './interaction.js';

function clusterWithLearner(): InteractionEnv {
  const env = new InteractionEnv();
  env.run('add-nodes 4 voters=(1,2,3) learners=(4) inflight=2 appendbytes=10');
  env.run('campaign 1');
  env.run('stabilize');
  return env;
}

function promoteRefusal(env: InteractionEnv): LearnerNotReadyError {
  try {
    env.nodes.get('s1')?.node.proposeConfChange({ type: 'promote', member: 's4' });
  } catch (error) {
    if (error instanceof LearnerNotReadyError) return error;
    throw error;
  }
  throw new Error('the promotion was accepted');
}

function proposeMany(env: InteractionEnv, count: number): void {
  for (let i = 0; i < count; i++) {
    env.run(`propose 1 e${i}`);
    if (i % 50 === 49) env.run('stabilize 1 2 3');
  }
  env.run('stabilize 1 2 3');
}

describe('a learner is promoted only once it has caught up', () => {
  it('a caught-up learner is promoted', () => {
    const env = clusterWithLearner();
    expect(env.run('propose-conf-change 1 promote 4')).toBe('proposed index=2 term=1');
    env.run('stabilize');
    expect(env.run('status 4')).toBe('s4: term=1 role=follower leader=s1 commit=2 applied=2 last=2 snapshot=0 voters=(s1,s2,s3,s4) learners=()');
  });

  it('a learner that never answered this leader is refused', () => {
    const env = new InteractionEnv();
    env.run('add-nodes 4 voters=(1,2,3) learners=(4)');
    env.run('partition 1 2 3 | 4');
    env.run('campaign 1');
    env.run('stabilize');
    expect(env.run('propose-conf-change 1 promote 4')).toBe(
      "error: LearnerNotReadyError: learner s4 has not caught up with the leader (it holds up to index 0, the leader's log ends at 1); it was not promoted, retry when it has caught up",
    );
    env.run('heal');
    env.run('tick-heartbeat 1');
    env.run('stabilize');
    expect(env.run('propose-conf-change 1 promote 4')).toBe('proposed index=2 term=1');
  });

  it('a learner more than learnerCatchUpEntriesMax entries behind is refused until it catches up', () => {
    const env = clusterWithLearner();
    env.run('partition 1 2 3 | 4');
    const count = raftLimits.learnerCatchUpEntriesMax + 1;
    proposeMany(env, count);
    const refusal = promoteRefusal(env);
    expect([refusal.member, refusal.match, refusal.lastIndex]).toEqual(['s4', 1, 1 + count]);
    expect(env.run('status 1').split('\n')[0]).toBe(`s1: term=1 role=leader leader=s1 commit=${1 + count} applied=${1 + count} last=${1 + count} snapshot=0 voters=(s1,s2,s3) learners=(s4)`);
    env.run('heal');
    env.run('stabilize');
    expect(env.run('propose-conf-change 1 promote 4')).toBe(`proposed index=${2 + count} term=1`);
  });

  it('a learner that needs a snapshot is refused even when few entries behind', () => {
    const env = clusterWithLearner();
    env.run('partition 1 2 3 | 4');
    proposeMany(env, 5);
    // The partition loses what was on its way to s4 (one append carries all five entries).
    env.run('drop-msgs 4');
    expect(env.run('compact 1 6')).toBe('snapshot index=6 term=1 voters=(s1,s2,s3) learners=(s4)');
    const refusal = promoteRefusal(env);
    expect([refusal.match, refusal.lastIndex]).toEqual([1, 6]);
    env.run('heal');
    env.run('tick-heartbeat 1');
    env.run('stabilize');
    expect(env.run('status 4').split(' ').slice(5, 9).join(' ')).toBe('applied=6 last=6 snapshot=6 voters=(s1,s2,s3)');
    expect(env.run('propose-conf-change 1 promote 4')).toBe('proposed index=7 term=1');
  });

  it('the refusal crosses the bus as itself', () => {
    const rebuilt = fromWire(toWire(new LearnerNotReadyError('s4', 3, 2000)), storeErrorFactories);
    expect(rebuilt).toBeInstanceOf(LearnerNotReadyError);
    expect([(rebuilt as LearnerNotReadyError).member, (rebuilt as LearnerNotReadyError).match, (rebuilt as LearnerNotReadyError).lastIndex, rebuilt.code]).toEqual(['s4', 3, 2000, 'learnerNotReady']);
  });
});
