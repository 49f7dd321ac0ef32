/**
 * Check-quorum counts only answers of the leader's current term (etcd's RecentActive, set on
 * append and heartbeat responses). A leader cut off from the majority must step down within an
 * election timeout even while messages keep reaching it from members that cannot hear it: stale-
 * term leftovers delayed in the network, or pre-votes of members that no longer receive it (an
 * asymmetric partition). Before the fix any incoming message counted, so such a leader believed it
 * had a quorum and stayed leader, refusing nothing and committing nothing.
 *
 * How: a 3-member cluster elects s1 through the interaction environment, then s1 is partitioned
 * from s2 and s3 while crafted messages from s2 are stepped into s1 once per tick.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../store/raft/index.js';
import { defaultNodeOptions } from './cluster.js';
import { InteractionEnv } from './interaction.js';

function electedCluster(): InteractionEnv {
  const env = new InteractionEnv();
  env.run('add-nodes 3 voters=(1,2,3) checkquorum=true prevote=true');
  env.run('campaign 1');
  env.run('stabilize');
  expect(env.run('status 1').split('\n')[0]).toBe('s1: term=1 role=leader leader=s1 commit=1 applied=1 last=1 snapshot=0 voters=(s1,s2,s3) learners=()');
  env.run('partition 1 | 2 3');
  return env;
}

/** Ticks s1 through one whole check-quorum round, stepping `message()` into it before each tick. */
function tickElectionWith(env: InteractionEnv, message: () => Message): string {
  const s1 = env.nodes.get('s1');
  if (s1 === undefined) throw new Error('no s1');
  for (let i = 0; i < 2 * defaultNodeOptions.electionTicks - 1; i++) {
    s1.node.step(message());
    s1.node.tick();
  }
  return s1.node.status().role;
}

describe('check-quorum counts only current-term responses', () => {
  it('a leader hearing only stale-term messages from the majority side steps down', () => {
    const env = electedCluster();
    // Leftovers of term 0 (s2 answered an old heartbeat before s1's election) keep arriving.
    const role = tickElectionWith(env, () => ({ type: 'heartbeatResponse', from: 's2', to: 's1', term: 0, context: '' }));
    expect(role).toBe('follower');
  });

  it('a leader hearing only pre-votes from members that cannot hear it steps down', () => {
    const env = electedCluster();
    // s2 no longer hears s1, so it pre-campaigns for term 2; its pre-votes still reach s1.
    const role = tickElectionWith(env, () => ({ type: 'preVote', from: 's2', to: 's1', term: 2, lastIndex: 1, lastTerm: 1, force: false }));
    expect(role).toBe('follower');
  });

  it('current-term heartbeat responses keep the leader in place', () => {
    const env = electedCluster();
    const role = tickElectionWith(env, () => ({ type: 'heartbeatResponse', from: 's2', to: 's1', term: 1, context: '' }));
    expect(role).toBe('leader');
    expect(env.run('status 1').split('\n')[1]).toBe('  quorumActive=2/3');
  });
});
