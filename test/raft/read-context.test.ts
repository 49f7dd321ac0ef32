/**
 * Defect B, on the pure core: a read context names exactly one read at the leader. A readIndex
 * delivered twice (the network duplicates messages) is one read, answered once; before the fix the
 * leader queued it twice and answered both, the second one later and at a later round, so the
 * answers to one context depended on how acknowledgements interleaved. (Contexts unique across a
 * member's restarts are the driver's part: test/store/raft-driver-read-restart.test.ts.)
 *
 * How: s1 leads a 3-member interaction cluster with its no-op committed; a readIndex from s2 is
 * stepped into s1 twice, then the cluster stabilizes.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../store/raft/index.js';
import { InteractionEnv } from './interaction.js';

describe('a read context names one read at the leader (defect B)', () => {
  it('a readIndex delivered twice is answered once', () => {
    const env = new InteractionEnv();
    env.run('add-nodes 3 voters=(1,2,3)');
    env.run('campaign 1');
    env.run('stabilize');
    const s1 = env.nodes.get('s1');
    if (s1 === undefined) throw new Error('no s1');
    expect(s1.node.status()).toMatchObject({ role: 'leader', commit: 1 });

    const read: Message = { type: 'readIndex', from: 's2', to: 's1', term: 1, context: 's2:a:1' };
    s1.node.step(read);
    s1.node.step(read);
    const output = env.run('stabilize').split('\n');
    const answers = output.filter((line) => line.includes('readIndexResponse'));
    expect(answers).toEqual(['  send: s1->s2 readIndexResponse t1 ctx=s2:a:1 index=1']);
    // One heartbeat round per follower: the duplicate started none.
    expect(output.filter((line) => line.includes('heartbeat t1 commit=1 ctx=s2:a:1'))).toHaveLength(2);
  });
});
