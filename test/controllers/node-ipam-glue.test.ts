/**
 * The node IPAM controller's glue on a stub cluster (informer, API, events), for what a real
 * cluster cannot stage on demand:
 * - a term's first reconcile is of a NEW Node while older Nodes wait in the queue: the range it
 *   gets is one no existing Node holds (the allocation is rebuilt from every Node first);
 * - the write meets a 409 because someone gave the Node a range meanwhile: our range is freed
 *   (the next Node gets it) and the Node's own range is taken as held;
 * - a full cluster CIDR records CIDRNotAvailable and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../bus/index.js';
import type { Logger } from '../../bus/index.js';
import { ConflictError, type ControllerContext, type Informer, type InformerHandlers, type WorkQueue } from '../../actors/controllers/runtime/index.js';
import { createNodeIpamController } from '../../actors/controllers/nodeipam/index.js';
import type { KubeObject } from '../../actors/objects/index.js';

type NodeObject = Node & KubeObject;

function node(name: string, podCIDR?: string): NodeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: '1' }, spec: podCIDR !== undefined ? { podCIDR, podCIDRs: [podCIDR] } : {} };
}

function stubCluster(nodes: NodeObject[], options: { conflictOnce?: (name: string) => NodeObject | undefined } = {}) {
  const cache = new Map(nodes.map((n) => [n.metadata.name as string, n]));
  const writes: { name: string; podCIDRs: readonly string[] }[] = [];
  const events: string[] = [];
  const conflicted = new Set<string>();
  const informer = {
    get: (key: string) => cache.get(key),
    list: () => [...cache.values()],
    byIndex: () => [],
    matching: () => [],
    hasSynced: () => true,
    addIndex: () => undefined,
    addHandlers: (handlers: InformerHandlers<NodeObject>) => {
      for (const n of cache.values()) handlers.onAdd?.(n);
      return () => undefined;
    },
  } as unknown as Informer<NodeObject>;
  const api = {
    async update(_resource: unknown, _ns: unknown, name: string, body: NodeObject) {
      const replacement = conflicted.has(name) ? undefined : options.conflictOnce?.(name);
      if (replacement !== undefined) {
        conflicted.add(name);
        cache.set(name, replacement);
        throw new ConflictError(409, 'Conflict', 'the object has been modified', undefined, undefined);
      }
      writes.push({ name, podCIDRs: body.spec?.podCIDRs ?? [] });
      cache.set(name, body);
      return body;
    },
    async get(_resource: unknown, _ns: unknown, name: string) {
      return cache.get(name);
    },
  };
  const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
  const ctx = {
    api, informers: { informer: () => informer, waitForSync: async () => undefined },
    events: { record: (object: KubeObject, _type: string, reason: string, message: string) => events.push(`${object.metadata.name} ${reason}: ${message}`) },
    clock: new SimulatedClock(), logger: silent, options: { clusterCidr: '10.244.0.0/22', nodeCidrMaskSize: 24 },
  } as unknown as ControllerContext;
  const queued: string[] = [];
  const queue = { add: (key: string) => queued.push(key), addAfter: () => undefined, addRateLimited: () => undefined, forget: () => undefined, numRequeues: () => 0, length: 0 } as WorkQueue;
  return { ctx, queue, queued, cache, writes, events };
}

describe('node IPAM controller glue', () => {
  it('a new Node reconciled before the existing ones still gets a range none of them holds', async () => {
    const cluster = stubCluster([node('old-a', '10.244.0.0/24'), node('old-b', '10.244.1.0/24'), node('new')]);
    const spec = createNodeIpamController();
    spec.watch(cluster.ctx, cluster.queue);
    await spec.reconcile('new', cluster.ctx, cluster.queue);
    expect(cluster.writes).toEqual([{ name: 'new', podCIDRs: ['10.244.2.0/24'] }]);
  });

  it('a 409 because the Node got a range meanwhile: ours is freed and theirs is held', async () => {
    const cluster = stubCluster([node('a'), node('b')], { conflictOnce: (name) => (name === 'a' ? node('a', '10.244.3.0/24') : undefined) });
    const spec = createNodeIpamController();
    spec.watch(cluster.ctx, cluster.queue);
    await spec.reconcile('a', cluster.ctx, cluster.queue);
    expect(cluster.writes).toEqual([]);
    await spec.reconcile('b', cluster.ctx, cluster.queue);
    await spec.reconcile('c-missing', cluster.ctx, cluster.queue);
    // The freed 10.244.0.0/24 is reused only after the rotation passes it; 10.244.3.0/24 stays a's.
    cluster.cache.set('c', node('c'));
    cluster.cache.set('d', node('d'));
    await spec.reconcile('c', cluster.ctx, cluster.queue);
    await spec.reconcile('d', cluster.ctx, cluster.queue);
    expect(cluster.writes).toEqual([
      { name: 'b', podCIDRs: ['10.244.1.0/24'] },
      { name: 'c', podCIDRs: ['10.244.2.0/24'] },
      { name: 'd', podCIDRs: ['10.244.0.0/24'] },
    ]);
  });

  it('a full cluster CIDR: CIDRNotAvailable, nothing written', async () => {
    const cluster = stubCluster(['a', 'b', 'c', 'd'].map((n, i) => node(n, `10.244.${i}.0/24`)).concat(node('e')));
    const spec = createNodeIpamController();
    spec.watch(cluster.ctx, cluster.queue);
    await spec.reconcile('e', cluster.ctx, cluster.queue);
    expect(cluster.writes).toEqual([]);
    expect(cluster.events).toEqual(['e CIDRNotAvailable: Node e status is now: CIDRNotAvailable']);
  });
});
