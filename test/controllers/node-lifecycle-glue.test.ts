/**
 * The node lifecycle pass on a stub cluster with a simulated clock, for what three hollow Nodes
 * cannot show: many Nodes failing at once.
 * - Every Node of the only zone silent: conditions go Unknown and NoSchedule taints are set, but
 *   no NoExecute taint (FullDisruption everywhere: no evictions at all).
 * - Zone a fully down while zone b is healthy: zone a's Nodes are tainted NoExecute one at a
 *   time at --node-eviction-rate (0.1/s: the first at once, the next 10 s later), and the pass
 *   asks to run again when the next token is due.
 * - A zone of 4 with 3 down is PartialDisruption in a small cluster: rate 0, no NoExecute taint.
 */
import { describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { SimulatedClock, type Logger } from '../../bus/index.js';
import { createNodeLifecycleController } from '../../actors/controllers/nodelifecycle/index.js';
import type { ControllerContext, Informer, InformerHandlers, ResourceRef, WorkQueue } from '../../actors/controllers/runtime/index.js';
import { getCondition, type KubeObject } from '../../actors/objects/index.js';

type Obj = KubeObject & (Node | Lease);

function hollow(name: string, zone: string): KubeObject & Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'topology.kubernetes.io/zone': zone }, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
}

function stubCluster(nodes: (KubeObject & Node)[]) {
  const clock = new SimulatedClock();
  const tables: Record<string, Map<string, Obj>> = {
    nodes: new Map(nodes.map((n) => [n.metadata.name as string, n])),
    leases: new Map(nodes.map((n) => [`kube-node-lease/${n.metadata.name}`, lease(n.metadata.name as string, 0)])),
    pods: new Map(),
  };
  const informer = (resource: ResourceRef): Informer<Obj> => {
    const table = tables[resource.resource] ?? new Map<string, Obj>();
    return {
      get: (key: string) => table.get(key), list: () => [...table.values()], byIndex: () => [], matching: () => [], hasSynced: () => true, addIndex: () => undefined,
      addHandlers: (handlers: InformerHandlers<Obj>) => {
        for (const o of table.values()) handlers.onAdd?.(o);
        return () => undefined;
      },
    } as unknown as Informer<Obj>;
  };
  const api = {
    async update(resource: ResourceRef, _ns: unknown, name: string, body: Obj) {
      const next = { ...body, metadata: { ...body.metadata, resourceVersion: String(Number(body.metadata.resourceVersion ?? '0') + 1) } };
      tables[resource.resource]?.set(name, next);
      return next;
    },
  };
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
  const ctx = {
    api, informers: { informer, waitForSync: async () => undefined }, events: { record: () => undefined }, clock, logger: silent,
    options: { nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5_000 },
  } as unknown as ControllerContext;
  const queue = { add: () => undefined, addAfter: () => undefined, addRateLimited: () => undefined, forget: () => undefined, numRequeues: () => 0, length: 0 } as WorkQueue;
  const renew = (name: string): void => void tables['leases']?.set(`kube-node-lease/${name}`, lease(name, clock.now()));
  const node = (name: string): KubeObject & Node => tables['nodes']?.get(name) as KubeObject & Node;
  return { ctx, queue, clock, renew, node };
}

function lease(name: string, atMs: number): KubeObject & Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, renewTime: `t${atMs}` } };
}

const taintKeys = (taints: readonly Taint[] | undefined): string[] => (taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

describe('node lifecycle pass', () => {
  it('every Node of every zone silent: Unknown and NoSchedule, but no NoExecute taint', async () => {
    const c = stubCluster(['n1', 'n2', 'n3'].map((n) => hollow(n, 'a')));
    const spec = createNodeLifecycleController({ wallClockMs: () => Date.parse('2026-01-01T01:00:00Z') });
    spec.watch(c.ctx, c.queue);
    c.clock.advance(40_001);
    await spec.reconcile('pass', c.ctx, c.queue);
    for (const name of ['n1', 'n2', 'n3']) {
      expect(getCondition(c.node(name).status?.conditions, 'Ready')?.status).toBe('Unknown');
      expect(taintKeys(c.node(name).spec?.taints)).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    }
  });

  it('one zone down, another healthy: the down zone is tainted NoExecute at 0.1 Nodes/s', async () => {
    const c = stubCluster([hollow('a1', 'a'), hollow('a2', 'a'), hollow('b1', 'b')]);
    const spec = createNodeLifecycleController({ wallClockMs: () => Date.parse('2026-01-01T01:00:00Z') });
    spec.watch(c.ctx, c.queue);
    c.clock.advance(40_001);
    c.renew('b1');
    const first = await spec.reconcile('pass', c.ctx, c.queue);
    const noExecute = (): string[] => ['a1', 'a2', 'b1'].filter((n) => (c.node(n).spec?.taints ?? []).some((t) => t.effect === 'NoExecute'));
    expect(noExecute()).toEqual(['a1']);
    expect(first).toEqual({ requeueAfterMs: 5_000 });
    c.clock.advance(5_000);
    c.renew('b1');
    expect(await spec.reconcile('pass', c.ctx, c.queue)).toEqual({ requeueAfterMs: 5_000 });
    expect(noExecute()).toEqual(['a1']);
    c.clock.advance(5_000);
    c.renew('b1');
    await spec.reconcile('pass', c.ctx, c.queue);
    expect(noExecute()).toEqual(['a1', 'a2']);
    expect((c.node('a2').spec?.taints ?? []).find((t) => t.effect === 'NoExecute')).toEqual({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T01:00:00Z' });
    expect(getCondition(c.node('b1').status?.conditions, 'Ready')?.status).toBe('True');
  });

  it('PartialDisruption in a small zone (3 of 4 down, 4 <= 50 Nodes): no NoExecute taint', async () => {
    const c = stubCluster(['p1', 'p2', 'p3', 'p4'].map((n) => hollow(n, 'p')));
    const spec = createNodeLifecycleController();
    spec.watch(c.ctx, c.queue);
    c.clock.advance(40_001);
    c.renew('p4');
    await spec.reconcile('pass', c.ctx, c.queue);
    expect(['p1', 'p2', 'p3', 'p4'].map((n) => taintKeys(c.node(n).spec?.taints))).toEqual([
      ['node.kubernetes.io/unreachable:NoSchedule'], ['node.kubernetes.io/unreachable:NoSchedule'], ['node.kubernetes.io/unreachable:NoSchedule'], [],
    ]);
  });
});
