/**
 * MemberService.handleLocal, the in-process path the API beside a member uses: it answers what the
 * bus path answers (a put applies and reads back) and refuses with the typed errors themselves, not
 * wire errors: a malformed request is InvalidRequestFieldError naming the field, a write at a
 * follower is NotLeaderError with the leader as hint. Real members on simulated time
 * (member-harness.ts); the service under test is built on the leader's and a follower's driver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../bus/index.js';
import { InvalidRequestFieldError, NotLeaderError } from '../../store/index.js';
import { MemberService } from '../../store/member-service.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import type { StoreRequest } from '../../store/protocol.js';
import { MemberHarness } from './member-harness.js';

const ids = ['s1', 's2', 's3'];

describe('MemberService.handleLocal', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  it('answers as the bus path does, with typed errors', async () => {
    const disks = new Map(ids.map((id) => [id, new MemoryBackend()]));
    const h = new MemberHarness({ ids, seed: 5, openBackend: (id) => disks.get(id) as MemoryBackend });
    harness = h;
    for (const id of ids) h.start(id);
    const leader = await h.waitForLeader();
    const follower = ids.find((id) => id !== leader) as string;
    const serviceOn = (id: string): MemberService => new MemberService({
      driver: h.driver(id) as NonNullable<ReturnType<MemberHarness['driver']>>,
      bus: h.network.connect(`local-${id}`), cluster: 'test', clock: h.clock, random: new Prng(9), backend: disks.get(id) as MemoryBackend,
    });
    const local = serviceOn(leader);

    const put: StoreRequest = { type: 'write', command: { type: 'put', request: { key: '/local', value: new Uint8Array([7]) } }, requestId: null };
    await expect(h.settle(local.handleLocal(put))).resolves.toMatchObject({ type: 'put' });
    const read = await h.settle(local.handleLocal({ type: 'range', request: { key: '/local' }, consistency: 'linearizable' })) as { result: { kvs: { value: Uint8Array }[] } };
    expect([...(read.result.kvs[0]?.value ?? [])]).toEqual([7]);

    const malformed = await h.refusal(local.handleLocal({ type: 'write', command: { type: 'put', request: { key: 7 } }, requestId: null } as unknown as StoreRequest), 1_000);
    expect(malformed).toBeInstanceOf(InvalidRequestFieldError);
    expect((malformed as InvalidRequestFieldError).field).toBe('command.request.key');

    const atFollower = await h.refusal(serviceOn(follower).handleLocal(put), 1_000);
    expect(atFollower).toBeInstanceOf(NotLeaderError);
    expect((atFollower as NotLeaderError).leaderHint).toBe(leader);
  });
});
