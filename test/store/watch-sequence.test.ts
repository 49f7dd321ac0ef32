/**
 * Watch messages are numbered per watch, so a message lost on the way (NATS drops messages to a
 * slow consumer or across a reconnect) ends the watch with WatchGapError naming the revision to
 * resume from, instead of a silent gap (issue 9, F). The member's bus here drops exactly one watch
 * message; the client must deliver nothing after the gap, and a watch resumed from the error's
 * revision gets every event. A duplicated message is ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/index.js';
import { WatchGapError, type WatchEvent } from '../../store/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MemberHarness } from './member-harness.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Passes every publish through, except that it drops or doubles the n-th watch message when told to. */
function tamperingBus(bus: Bus, plan: { drop: number | null; duplicate: number | null }): Bus {
  let watchMessages = 0;
  return new Proxy(bus, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return (subject: string, data: Uint8Array): void => {
        if (subject.startsWith('_INBOX.kubuswatch.')) {
          watchMessages++;
          if (watchMessages === plan.drop) return;
          if (watchMessages === plan.duplicate) target.publish(subject, data);
        }
        target.publish(subject, data);
      };
    },
  });
}

describe('watch message sequence', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  function oneMember(plan: { drop: number | null; duplicate: number | null }): MemberHarness {
    const disk = new MemoryBackend();
    harness = new MemberHarness({ ids: ['s1'], openBackend: () => disk, wrapBus: (_id, bus) => tamperingBus(bus, plan) });
    harness.start('s1');
    return harness;
  }

  it('a lost message ends the watch with WatchGapError and the resume revision; a resumed watch misses nothing', async () => {
    const h = oneMember({ drop: 2, duplicate: null });
    await h.waitForLeader();
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    await h.settle(h.client.watch({ range: { key: 'w/', prefix: true }, startRevision: 0, onEvents: (batch) => events.push(...batch), onError: (error) => errors.push(error) }));
    const first = await h.settle(h.client.put({ key: 'w/1', value: text('1') }));
    await h.settle(h.client.put({ key: 'w/2', value: text('2') }));
    await h.settle(h.client.put({ key: 'w/3', value: text('3') }));
    await h.until('the watch failed', () => errors.length > 0, 1_000);
    expect(events.map((event) => event.kv.key)).toEqual(['w/1']);
    expect(errors).toHaveLength(1);
    const gap = errors[0] as WatchGapError;
    expect(gap).toBeInstanceOf(WatchGapError);
    expect(gap.code).toBe('watchGap');
    expect([gap.expectedSequence, gap.receivedSequence, gap.resumeRevision]).toEqual([2, 3, first.revision + 1]);

    const resumed: WatchEvent[] = [];
    const watch = await h.settle(h.client.watch({ range: { key: 'w/', prefix: true }, startRevision: gap.resumeRevision, onEvents: (batch) => resumed.push(...batch), onError: (error) => errors.push(error) }));
    await h.until('the resumed watch caught up', () => resumed.length >= 2, 1_000);
    watch.close();
    expect(resumed.map((event) => event.kv.key)).toEqual(['w/2', 'w/3']);
    expect(errors).toHaveLength(1);
  });

  it('a duplicated message is delivered once', async () => {
    const h = oneMember({ drop: null, duplicate: 1 });
    await h.waitForLeader();
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watch = await h.settle(h.client.watch({ range: { key: 'd/', prefix: true }, startRevision: 0, onEvents: (batch) => events.push(...batch), onError: (error) => errors.push(error) }));
    await h.settle(h.client.put({ key: 'd/1', value: text('1') }));
    await h.settle(h.client.put({ key: 'd/2', value: text('2') }));
    await h.until('both events', () => events.length >= 2, 1_000);
    await h.run(100);
    watch.close();
    expect(events.map((event) => event.kv.key)).toEqual(['d/1', 'd/2']);
    expect(errors).toEqual([]);
  });
});
