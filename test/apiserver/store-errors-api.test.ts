/**
 * Two store conditions as the API answers them (issue 9):
 * - A full store (StorageFullError, etcd's NOSPACE alarm) stays a 500, as kube-apiserver answers
 *   etcd's "database space exceeded", but the Status says the store is full, with used and quota
 *   bytes and how to free it, instead of a generic "cluster store error".
 * - A store watch that ends with WatchGapError (a watch message was lost on the bus) ends the API
 *   watch stream cleanly, with no ERROR event, as a Kubernetes watch that times out: every event up
 *   to the last resourceVersion was delivered, so the client re-watches from it and misses nothing.
 *   Real member, store client and object watch on simulated time and network; the member's bus
 *   drops exactly one watch message (as in test/store/watch-sequence.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/index.js';
import { findResource, type ObjectWatchEvent } from '../../actors/apiserver/registry/index.js';
import { startObjectWatch } from '../../actors/apiserver/registry/object-watch.js';
import { encodeObject, objectKey } from '../../actors/apiserver/registry/storage-codec.js';
import { toApiError } from '../../actors/apiserver/registry/store-errors.js';
import type { ApiError } from '../../actors/apiserver/status.js';
import { StorageFullError } from '../../store/index.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MemberHarness } from '../store/member-harness.js';

const configmaps = findResource('', 'v1', 'configmaps');

/** Passes every publish through, except the n-th store watch message, which it drops. */
function droppingBus(bus: Bus, drop: number): Bus {
  let watchMessages = 0;
  return new Proxy(bus, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return (subject: string, data: Uint8Array): void => {
        if (subject.startsWith('_INBOX.kubuswatch.') && ++watchMessages === drop) return;
        target.publish(subject, data);
      };
    },
  });
}

describe('a full store as an API error', () => {
  it('is a 500 that says the store is full, how full, and how to free it', () => {
    const error = toApiError(new StorageFullError(2_100_000, 2_000_000, 's2'), 'write');
    expect(error.httpStatus).toBe(500);
    expect(error.reason).toBe('InternalError');
    expect(error.message).toBe(
      'the cluster store is full (member s2): 2100000 of 2000000 bytes in use; the write was not applied. Free space: delete objects, compact, then `kubus alarm disarm`',
    );
    expect(toApiError(new StorageFullError(10, 8), 'write').message).toBe(
      'the cluster store is full: 10 of 8 bytes in use; the write was not applied. Free space: delete objects, compact, then `kubus alarm disarm`',
    );
  });
});

describe('an API watch whose store watch lost a message', () => {
  let harness: MemberHarness | null = null;
  afterEach(() => harness?.stopAll());

  it('ends cleanly, and a re-watch from the last resourceVersion misses nothing', async () => {
    if (configmaps === undefined) throw new Error('configmaps are not served');
    const disk = new MemoryBackend();
    const h = new MemberHarness({ ids: ['s1'], openBackend: () => disk, wrapBus: (_id, bus) => droppingBus(bus, 2) });
    harness = h;
    h.start('s1');
    await h.waitForLeader();
    const put = (name: string): Promise<unknown> =>
      h.client.put({ key: objectKey(configmaps, 'default', name), value: encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } }) });
    const start = await h.settle(h.client.put({ key: '/other', value: new Uint8Array([0]) }));

    const open = async (resourceVersion: string): Promise<{ events: ObjectWatchEvent[]; closes: Array<ApiError | undefined>; stop(): void }> => {
      const events: ObjectWatchEvent[] = [];
      const closes: Array<ApiError | undefined> = [];
      const handle = await h.settle(startObjectWatch({
        info: configmaps, namespace: 'default', options: { resourceVersion }, client: h.client, clock: h.clock,
        sink: { event: (event) => events.push(event), close: (error) => closes.push(error) },
        list: () => Promise.reject(new Error('a watch from a resourceVersion does not list')),
      }));
      return { events, closes, stop: () => handle.stop() };
    };

    const first = await open(String(start.revision));
    for (const name of ['a', 'b', 'c']) await h.settle(put(name));
    await h.until('the API watch ended', () => first.closes.length > 0, 2_000);
    // Message 2 (configmap b) was lost: the stream ends after a, with no ERROR event.
    expect(first.closes).toEqual([undefined]);
    expect(first.events.map((event) => [event.type, (event.object as { metadata: { name: string } }).metadata.name])).toEqual([['ADDED', 'a']]);

    const last = (first.events.at(-1)?.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const second = await open(last);
    await h.until('the re-watch caught up', () => second.events.length >= 2, 2_000);
    second.stop();
    expect(second.events.map((event) => [event.type, (event.object as { metadata: { name: string } }).metadata.name])).toEqual([['ADDED', 'b'], ['ADDED', 'c']]);
    expect(second.closes).toEqual([]);
  });
});
