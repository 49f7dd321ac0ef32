/**
 * The ReplicaSet controller's glue against a stale cache: an in-memory API and informers that show
 * only what the test delivers, so a "slow watch" is simply not delivering.
 *
 * - After a sync creates 3 pods, syncs before the informer shows them create nothing more
 *   (expectations), and once they are shown the ReplicaSet is satisfied with 3.
 * - Creates run in slow-start batches: with every create refused, one sync tries exactly once, and
 *   the next sync may try again (the refused create is no longer expected).
 * - A pod being deleted is expected gone: until the informer shows the deletion, no further pod is
 *   deleted (the same one would be picked again).
 */
import { describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import { replicaSetController } from '../../actors/controllers/replicaset/index.js';
import { ApiStatusError } from '../../actors/controllers/runtime/api-errors.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import type { ControllerContext, InformerHandlers, WorkQueue } from '../../actors/controllers/runtime/types.js';
import { controllerOf, type KubeObject } from '../../actors/objects/index.js';

const rs: ReplicaSet = {
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', generation: 1 },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
};

function fakeCluster(options: { refuseCreates?: boolean } = {}) {
  const cache = { pods: [] as Pod[], replicaSets: [rs] as ReplicaSet[] };
  const handlers: { pods: InformerHandlers<KubeObject>[] } = { pods: [] };
  const created: Pod[] = [];
  const deleted: string[] = [];
  let attempts = 0;
  let names = 0;
  const informer = (resource: string) => ({
    get: (key: string) => (resource === 'replicasets' ? cache.replicaSets.find((r) => `${r.metadata?.namespace}/${r.metadata?.name}` === key) : undefined),
    list: () => (resource === 'pods' ? cache.pods : cache.replicaSets),
    byIndex: (index: string, value: string) => {
      const items: { metadata?: { namespace?: string; ownerReferences?: { uid: string }[] } }[] = resource === 'pods' ? cache.pods : cache.replicaSets;
      if (index === 'namespace') return items.filter((o) => o.metadata?.namespace === value);
      return items.filter((o) => (o.metadata?.ownerReferences ?? []).some((r) => r.uid === value));
    },
    addHandlers: (h: InformerHandlers<KubeObject>) => {
      if (resource === 'pods') handlers.pods.push(h);
      return () => undefined;
    },
  });
  const api = {
    get: async () => structuredClone(rs),
    create: async (_ref: unknown, namespace: string, body: Pod) => {
      attempts++;
      if (options.refuseCreates === true) throw new ApiStatusError(403, 'Forbidden', 'exceeded quota: pods', undefined, undefined);
      const pod = { ...structuredClone(body), metadata: { ...body.metadata, name: `web-${++names}`, namespace, uid: `pod-${names}` } } as Pod;
      created.push(pod);
      return pod;
    },
    delete: async (_ref: unknown, _namespace: string, name: string) => { deleted.push(name); },
    patch: async () => ({}),
  };
  const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
  const ctx = {
    api, clock: new SimulatedClock(), logger: quiet, options: {}, events: { record: () => undefined },
    informers: { informer: (ref: { resource: string }) => informer(ref.resource), waitForSync: async () => undefined },
  } as unknown as ControllerContext;
  const queue: WorkQueue = { add: () => undefined, addAfter: () => undefined, addRateLimited: () => undefined, forget: () => undefined, numRequeues: () => 0, length: 0 };
  replicaSetController.watch(ctx, queue);
  return {
    cache, created, deleted, attempts: () => attempts,
    sync: () => replicaSetController.reconcile('ns/web', ctx, queue).catch((error: unknown) => error),
    /** The informer finally shows the pods created so far. */
    deliverCreated: () => {
      for (const pod of created.filter((p) => !cache.pods.includes(p))) {
        cache.pods.push(pod);
        for (const h of handlers.pods) h.onAdd?.(pod as unknown as KubeObject);
      }
    },
    deliverDeleted: () => {
      for (const name of deleted) {
        const pod = cache.pods.find((p) => p.metadata?.name === name);
        if (pod === undefined) continue;
        cache.pods = cache.pods.filter((p) => p !== pod);
        for (const h of handlers.pods) h.onDelete?.(pod as unknown as KubeObject);
      }
    },
  };
}

describe('ReplicaSet expectations against a slow watch', () => {
  it('creates 3 once; syncs before the pods are seen create nothing', async () => {
    const cluster = fakeCluster();
    await cluster.sync();
    expect(cluster.created.length).toBe(3);
    expect(cluster.created.every((p) => controllerOf(p)?.uid === 'rs-uid' && p.metadata?.generateName === 'web-')).toBe(true);
    await cluster.sync();
    await cluster.sync();
    expect(cluster.created.length).toBe(3);
    cluster.deliverCreated();
    await cluster.sync();
    expect(cluster.created.length).toBe(3);
  });

  it('slow start: with every create refused one sync tries once, the next sync once again', async () => {
    const cluster = fakeCluster({ refuseCreates: true });
    const error = await cluster.sync();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/FailedCreate: exceeded quota/);
    expect(cluster.attempts()).toBe(1);
    await cluster.sync();
    expect(cluster.attempts()).toBe(2);
  });

  it('a pod being deleted is not deleted again, nor another, before its deletion is seen', async () => {
    const cluster = fakeCluster();
    await cluster.sync();
    cluster.deliverCreated();
    cluster.cache.replicaSets = [{ ...rs, spec: { ...rs.spec!, replicas: 2 } }];
    await cluster.sync();
    expect(cluster.deleted.length).toBe(1);
    // Scaled to 1 while the informer still lists 3: nothing more is deleted until the deletion shows.
    cluster.cache.replicaSets = [{ ...rs, spec: { ...rs.spec!, replicas: 1 } }];
    await cluster.sync();
    expect(cluster.deleted.length).toBe(1);
    cluster.deliverDeleted();
    await cluster.sync();
    expect(cluster.deleted.length).toBe(2);
    expect(new Set(cluster.deleted).size).toBe(2);
  });
});
