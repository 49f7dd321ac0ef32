/**
 * One malformed store request cannot break a member (issue 9, section 2). Real members on
 * simulated time and network (test/store/member-harness.ts); an attacker connection sends, on the
 * leader's store subject, the requests the security review found:
 * - `memberChange` adding a learner named `*` or `a.b` (a member id that is not a subject token:
 *   once in the configuration, the driver builds Raft subjects from it), or of an unknown type;
 * - `watchCreate` with an inbox that is another client's API inbox or a member's Raft subject
 *   (the member would publish watch events there with its own permissions).
 * Each is answered InvalidRequestFieldError naming the field, over the bus; nothing enters the
 * log, the configuration is unchanged, nothing is published on the forged inboxes, and the members
 * keep serving: the same leader, writes and reads, a real store watch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decode } from '../../bus/codec.js';
import { call } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { InvalidRequestFieldError, storeErrorFactories, type WatchEvent } from '../../store/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MemberHarness } from './member-harness.js';

const ids = ['s1', 's2', 's3'];
const names = subjects('test');

describe('malformed requests to a live member', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  it('are refused with the field named, and the cluster keeps serving', async () => {
    const disks = new Map(ids.map((id) => [id, new MemoryBackend()]));
    const h = new MemberHarness({ ids, seed: 11, openBackend: (id) => disks.get(id) as MemoryBackend });
    harness = h;
    for (const id of ids) h.start(id);
    const leader = await h.waitForLeader();
    await h.settle(h.client.put({ key: '/before', value: new Uint8Array([1]) }));

    const attacker = h.network.connect('attacker');
    const forged = [names.inbox('scheduler', '1'), names.raft(leader, ids.find((id) => id !== leader) as string)];
    const heardOnForged: string[] = [];
    // The Raft subject carries the leader's real traffic: only watch messages of the forged watches count.
    const isForgedWatchMessage = (data: Uint8Array): boolean => {
      const message = decode<{ watchId?: unknown }>(data);
      return typeof message === 'object' && message !== null && String(message.watchId).startsWith('forged-');
    };
    for (const subject of forged) {
      attacker.subscribe(subject, (message) => {
        if (isForgedWatchMessage(message.data)) heardOnForged.push(subject);
      }, { pendingMax: 1_024, onOverflow: () => undefined });
    }
    const lastIndexBefore = h.driver(leader)?.raftStatus().lastIndex ?? 0;

    const send = (request: unknown): Promise<unknown> => call(attacker, names.store(leader), request, { timeoutMs: 1_000, errorFactories: storeErrorFactories });
    const attacks: Array<[unknown, string]> = [
      [{ type: 'memberChange', change: { type: 'addLearner', member: '*' } }, 'change.member'],
      [{ type: 'memberChange', change: { type: 'addLearner', member: 'a.b' } }, 'change.member'],
      [{ type: 'memberChange', change: { type: 'addLearner', member: 7 } }, 'change.member'],
      [{ type: 'memberChange', change: { type: 'join', member: 's4' } }, 'change.type'],
      ...forged.map((inbox, i): [unknown, string] => [
        { type: 'watchCreate', watch: { watchId: `forged-${i}`, range: { key: '', prefix: true }, startRevision: 1, prevKv: false, progressNotify: true, inbox } },
        'watch.inbox',
      ]),
    ];
    for (const [request, field] of attacks) {
      const refusal = await h.refusal(send(request), 5_000);
      expect(refusal, JSON.stringify(request)).toBeInstanceOf(InvalidRequestFieldError);
      expect((refusal as InvalidRequestFieldError).field).toBe(field);
    }

    // Nothing was proposed: the refused changes never reached the log.
    expect(h.driver(leader)?.raftStatus().lastIndex).toBe(lastIndexBefore);
    // The members keep serving, under the same leader and configuration.
    const events: WatchEvent[] = [];
    const watch = await h.settle(h.client.watch({ range: { key: '/after' }, startRevision: 0, onEvents: (batch) => events.push(...batch), onError: () => undefined }));
    await h.settle(h.client.put({ key: '/after', value: new Uint8Array([2]) }));
    const read = await h.settle(h.client.range({ key: '/after' }));
    expect([...(read.result.kvs[0]?.value ?? [])]).toEqual([2]);
    await h.until('the watch delivered the put', () => events.length === 1, 2_000);
    watch.close();
    await h.run(500);
    expect(h.leader()).toBe(leader);
    for (const id of ids) {
      expect(h.state(id)).not.toBe('down');
      expect(h.driver(id)?.status().conf).toEqual({ voters: ids, learners: [] });
    }
    expect(heardOnForged).toEqual([]);
  });
});
