/**
 * The status manager against a scripted API: statuses are coalesced per pod (only the newest is
 * written), a status equal to the last written is skipped, writes are bounded by the token
 * bucket, everything queues while the API is unreachable and flushes when it answers, and a
 * deletion is confirmed with gracePeriodSeconds=0 and the uid precondition (404 counts as done).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../../bus/clock.js';
import { ApiStatusError, NotFoundError } from '../../../actors/controllers/runtime/api-errors.js';
import type { ApiClient } from '../../../actors/controllers/runtime/types.js';
import { createStatusManager, kubeletLimits } from '../../../nodeagent/kubelet/index.js';
import { makePod, silentLogger } from './harness.js';

type Write = { readonly kind: 'patch' | 'delete'; readonly name: string; readonly body: unknown };

function scriptedApi() {
  const writes: Write[] = [];
  const state = { online: true, missing: new Set<string>(), forbidden: new Set<string>() };
  const fail = () => {
    throw new Error('no reply on api within 5000 ms');
  };
  const api = {
    async patch(_resource: unknown, _ns: string, name: string, body: unknown, type: string, options: { subresource?: string }) {
      if (!state.online) fail();
      if (state.forbidden.has(name)) throw new ApiStatusError(403, 'Forbidden', `pods "${name}" is forbidden`, undefined, undefined);
      writes.push({ kind: 'patch', name, body: { type, subresource: options.subresource, ...(body as object) } });
      return {};
    },
    async delete(_resource: unknown, _ns: string, name: string, options: unknown) {
      if (!state.online) fail();
      if (state.missing.has(name)) throw new NotFoundError(404, 'NotFound', `pods "${name}" not found`, undefined, undefined);
      writes.push({ kind: 'delete', name, body: options });
    },
  } as unknown as ApiClient;
  return { api, writes, state };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const running = (ready: boolean): NonNullable<Pod['status']> => ({ phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] });

describe('status manager', () => {
  it('writes the whole status as a merge patch of the status subresource (with the uid, so a newer pod of the same name is never written), and skips one equal to the last written', async () => {
    const clock = new SimulatedClock();
    const { api, writes } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    const pod = makePod({}, 'web');
    sink.set(pod, running(false));
    await sink.flush();
    sink.set(pod, running(false));
    await sink.flush();
    expect(writes).toEqual([{ kind: 'patch', name: 'web', body: { type: 'merge', subresource: 'status', metadata: { uid: pod.metadata!.uid }, status: running(false) } }]);
  });

  it('coalesces per pod: of several statuses set before a write, only the newest goes out', async () => {
    const clock = new SimulatedClock();
    const { api, writes, state } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    const pod = makePod({}, 'web');
    state.online = false;
    sink.set(pod, running(false));
    await settle();
    sink.set(pod, running(true));
    sink.set(pod, { ...running(true), podIP: '10.0.0.1' });
    state.online = true;
    clock.advance(kubeletLimits.statusRetryInitialMs);
    await sink.flush();
    expect(writes.map((w) => (w.body as { status: unknown }).status)).toEqual([{ ...running(true), podIP: '10.0.0.1' }]);
  });

  it('bounds the rate: a burst, then statusWriteQps per second', async () => {
    const clock = new SimulatedClock();
    const { api, writes } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    const pods = Array.from({ length: kubeletLimits.statusWriteBurst + 2 * kubeletLimits.statusWriteQps }, (_, i) => makePod({}, `p${i}`));
    for (const pod of pods) sink.set(pod, running(true));
    await settle();
    expect(writes).toHaveLength(kubeletLimits.statusWriteBurst);
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      await settle();
    }
    expect(writes.length).toBeGreaterThanOrEqual(kubeletLimits.statusWriteBurst + kubeletLimits.statusWriteQps - 1);
    expect(writes.length).toBeLessThanOrEqual(kubeletLimits.statusWriteBurst + kubeletLimits.statusWriteQps + 1);
  });

  it('queues while the API is unreachable (newest wins per pod) and flushes when it answers', async () => {
    const clock = new SimulatedClock();
    const { api, writes, state } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    state.online = false;
    const a = makePod({}, 'a');
    const b = makePod({}, 'b');
    sink.set(a, running(false));
    sink.set(b, running(false));
    sink.confirmDeletion(makePod({}, 'gone'));
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      await settle();
    }
    sink.set(a, running(true));
    expect(sink.pendingCount()).toBe(3);
    expect(writes).toEqual([]);
    state.online = true;
    clock.advance(kubeletLimits.statusRetryMaxMs);
    await sink.flush();
    expect(sink.pendingCount()).toBe(0);
    expect(writes.map((w) => [w.kind, w.name])).toEqual([['delete', 'gone'], ['patch', 'b'], ['patch', 'a']]);
    expect((writes[2]!.body as { status: unknown }).status).toEqual(running(true));
  });

  it('asks again after a 403 (the member may not know the binding yet), a bounded number of times', async () => {
    const clock = new SimulatedClock();
    const { api, writes, state } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    const pod = makePod({}, 'web');
    state.forbidden.add('web');
    sink.set(pod, running(true));
    await sink.flush();
    expect(writes).toEqual([]);
    expect(sink.pendingCount()).toBe(1);
    state.forbidden.delete('web');
    clock.advance(kubeletLimits.statusRefusedRetryMs);
    await sink.flush();
    expect(writes.map((w) => (w.body as { status: unknown }).status)).toEqual([running(true)]);
    expect(sink.pendingCount()).toBe(0);

    const other = makePod({}, 'other');
    state.forbidden.add('other');
    sink.set(other, running(true));
    for (let i = 0; i <= kubeletLimits.statusRefusedRetriesMax + 1; i++) {
      await sink.flush();
      clock.advance(kubeletLimits.statusRefusedRetryMs);
    }
    await sink.flush();
    expect(sink.pendingCount()).toBe(0);
    expect(writes).toHaveLength(1);
  });

  it('confirms a deletion with gracePeriodSeconds=0 and the uid precondition; 404 is done', async () => {
    const clock = new SimulatedClock();
    const { api, writes, state } = scriptedApi();
    const sink = createStatusManager({ api, clock, logger: silentLogger() });
    const pod = makePod({}, 'web');
    sink.confirmDeletion(pod);
    state.missing.add('old');
    sink.confirmDeletion(makePod({}, 'old'));
    await sink.flush();
    expect(writes).toEqual([{ kind: 'delete', name: 'web', body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } } }]);
    expect(sink.pendingCount()).toBe(0);
  });
});
