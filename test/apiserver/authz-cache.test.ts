/**
 * The watched collection behind the RBAC and node-graph caches: it loads a list, follows the
 * watch, and after the watch ends (or a list fails) re-lists after a doubling delay, dropping
 * objects deleted while it was away. Driven by a fake source on simulated time.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { WatchedCollection } from '../../actors/apiserver/authz/index.js';
import { findResource } from '../../actors/apiserver/registry/resources.js';
import type { WatchSink } from '../../actors/apiserver/http/objects-port.js';
import { apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const role = (name: string): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [] });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WatchedCollection', () => {
  it('follows the watch and re-lists after it ends or a list fails', async () => {
    const clock = new SimulatedClock();
    let stored = [role('a'), role('b')];
    let sink: WatchSink | null = null;
    let failLists = 0;
    let lists = 0;
    const source = {
      list: async () => {
        lists += 1;
        if (failLists > 0) {
          failLists -= 1;
          throw apiErrors.internal('no quorum');
        }
        return { items: stored, resourceVersion: '5' };
      },
      watch: async (_info: unknown, _ns: unknown, _opts: unknown, s: WatchSink) => {
        sink = s;
        return { stop: () => undefined };
      },
    };
    const info = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
    const collection = new WatchedCollection(info, { source, clock, logger: createJsonLogger({ level: 'error' }) });
    collection.start();
    await flush();
    expect(collection.hasSynced).toBe(true);
    expect([...collection.values()].map((o) => o.metadata.name)).toEqual(['a', 'b']);
    (sink as WatchSink | null)?.event({ type: 'ADDED', object: role('c') });
    (sink as WatchSink | null)?.event({ type: 'DELETED', object: role('a') });
    expect(collection.get(null, 'c')).toBeDefined();
    expect(collection.get(null, 'a')).toBeUndefined();

    // The watch ends; the first re-list fails; the second (after a doubled delay) replaces the copy.
    stored = [role('d')];
    failLists = 1;
    (sink as WatchSink | null)?.close(apiErrors.internal('compacted'));
    clock.advance(250);
    await flush();
    expect(lists).toBe(2);
    expect(collection.get(null, 'c')).toBeDefined();
    clock.advance(499);
    await flush();
    expect(lists).toBe(2);
    clock.advance(1);
    await flush();
    expect(lists).toBe(3);
    expect([...collection.values()].map((o) => o.metadata.name)).toEqual(['d']);
    collection.stop();
  });
});
