/**
 * A watch never stalls on a member that left the configuration: a removed member applies nothing
 * more, yet it stayed connected and kept renewing the watches it served, so they went silent
 * forever. It now answers renewals with "unknown" and refuses new watches, and the client moves
 * the watch to a member of the cluster from the revision it needs, without gaps or duplicates.
 * Real members on simulated time and network (test/store/member-harness.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../store/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MemberHarness } from './member-harness.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const ids = ['s1', 's2', 's3'];

describe('watch on a removed member', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  it('moves to a member of the cluster and delivers every later event once', async () => {
    const disks = new Map(ids.map((id) => [id, new MemoryBackend()]));
    const h = (harness = new MemberHarness({ ids, seed: 5, openBackend: (id) => disks.get(id) as MemoryBackend }));
    for (const id of ids) h.start(id);
    const leader = await h.waitForLeader();
    const removed = ids.find((id) => id !== leader) as string;
    // The watch goes to the first member the client lists: the one about to be removed.
    h.client.setMembers([removed, ...ids.filter((id) => id !== removed)]);
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watch = await h.settle(h.client.watch({ range: { key: 'r/', prefix: true }, startRevision: 0, renewEveryMs: 200, onEvents: (batch) => events.push(...batch), onError: (error) => errors.push(error) }));
    expect((watch as unknown as { member: string }).member).toBe(removed);
    await h.settle(h.client.put({ key: 'r/0', value: text('0') }));
    h.client.setMembers(ids.filter((id) => id !== removed));
    await h.settle(h.client.changeMembership({ type: 'remove', member: removed }));
    for (let i = 1; i <= 5; i++) await h.settle(h.client.put({ key: `r/${i}`, value: text(String(i)) }));
    await h.until('every event delivered', () => events.length >= 6, 2_000);
    await h.run(300);
    watch.close();
    expect(events.map((event) => event.kv.key)).toEqual(['r/0', 'r/1', 'r/2', 'r/3', 'r/4', 'r/5']);
    expect((watch as unknown as { member: string }).member).not.toBe(removed);
    expect(errors).toEqual([]);
  });
});
