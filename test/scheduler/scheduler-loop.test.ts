/**
 * The scheduler loop on fakes (informers fed by hand, an API whose bindings the test resolves,
 * a simulated clock): the assume cache lets the next pod see a decision whose binding is not
 * stored yet; a failed binding frees the node at once and the pod is retried after its backoff;
 * an assumed pod the informer never confirms expires; an unschedulable pod gets its condition and
 * Event, and is placed when a node that fits appears.
 */
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { KubeObject } from '../../actors/objects/index.js';
import type { ApiClient, ControllerContext, Informer, InformerFactory, InformerHandlers, ResourceRef } from '../../actors/controllers/runtime/types.js';
import { SchedulerLoop, schedulerLimits } from '../../actors/scheduler/index.js';
import { node, pod } from './fixtures.js';

class FakeInformer implements Informer {
  private readonly handlers: InformerHandlers<KubeObject>[] = [];
  private readonly objects = new Map<string, KubeObject>();
  constructor(readonly resource: ResourceRef) {}
  hasSynced(): boolean { return true; }
  get(key: string): KubeObject | undefined { return this.objects.get(key); }
  list(): KubeObject[] { return [...this.objects.values()]; }
  byIndex(): KubeObject[] { return []; }
  matching(): KubeObject[] { return []; }
  addIndex(): void {}
  addHandlers(handlers: InformerHandlers<KubeObject>): () => void {
    this.handlers.push(handlers);
    for (const o of this.objects.values()) handlers.onAdd?.(o);
    return () => undefined;
  }
  set(object: Node | Pod): void {
    const o = object as unknown as KubeObject;
    const key = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name ?? '');
    const previous = this.objects.get(key);
    this.objects.set(key, o);
    for (const h of this.handlers) previous === undefined ? h.onAdd?.(o) : h.onUpdate?.(previous, o);
  }
}

interface Call { readonly verb: string; readonly name: string; readonly body: any; readonly subresource?: string | undefined }

function setup() {
  const clock = new SimulatedClock();
  const informers = new Map<string, FakeInformer>();
  const factory: InformerFactory = {
    informer: <T extends KubeObject>(ref: ResourceRef) => {
      let i = informers.get(ref.resource);
      if (i === undefined) informers.set(ref.resource, (i = new FakeInformer(ref)));
      return i as unknown as Informer<T>;
    },
    waitForSync: async () => undefined,
  };
  const calls: Call[] = [];
  const pendingBindings: { name: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const api = {
    create: (_ref: ResourceRef, _ns: string, body: any, options: { subresource?: string; name?: string } = {}) => {
      calls.push({ verb: 'create', name: options.name ?? '', body, subresource: options.subresource });
      return new Promise((resolve, reject) => pendingBindings.push({ name: options.name ?? '', resolve: () => resolve({}), reject }));
    },
    patch: async (_ref: ResourceRef, _ns: string, name: string, body: any, _type: string, options: { subresource?: string } = {}) => {
      calls.push({ verb: 'patch', name, body, subresource: options.subresource });
      return {};
    },
    delete: async (_ref: ResourceRef, _ns: string, name: string) => { calls.push({ verb: 'delete', name, body: undefined }); },
  } as unknown as ApiClient;
  const events: { name: string; reason: string; message: string }[] = [];
  const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
  const ctx: ControllerContext = {
    api, informers: factory, clock, logger: quiet, options: {},
    events: { record: (o, _type, reason, message) => void events.push({ name: o.metadata.name ?? '', reason, message }) },
  };
  const loop = new SchedulerLoop(ctx);
  loop.start();
  const nodes = factory.informer(refsOf('nodes')) as unknown as FakeInformer;
  const pods = factory.informer(refsOf('pods')) as unknown as FakeInformer;
  const settle = async (): Promise<void> => { for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve)); };
  const bindings = (): { pod: string; node: string }[] => calls.filter((c) => c.subresource === 'binding').map((c) => ({ pod: c.name, node: c.body.target.name }));
  return { clock, loop, nodes, pods, calls, events, pendingBindings, settle, bindings };
}

function refsOf(resource: string): ResourceRef {
  return { group: '', version: 'v1', resource, namespaced: resource !== 'nodes' };
}

describe('scheduler loop', () => {
  it('the next pod sees the previous decision before its binding is stored (assume)', async () => {
    const t = setup();
    // Without the assumption both would go to n2 (it scores higher and fits one): p2 must see p1 there.
    t.nodes.set(node('n1', { cpu: '1' }));
    t.nodes.set(node('n2', { cpu: '1500m' }));
    t.pods.set(pod('p1', { cpu: '1' }));
    t.pods.set(pod('p2', { cpu: '1' }));
    await t.settle();
    expect(t.bindings()).toEqual([{ pod: 'p1', node: 'n2' }, { pod: 'p2', node: 'n1' }]);
    expect(t.pendingBindings.length).toBe(2);
    t.loop.stop();
  });

  it('a failed binding frees the node at once and the pod is retried after its backoff', async () => {
    const t = setup();
    t.nodes.set(node('n1', { cpu: '1' }));
    t.pods.set(pod('p1', { cpu: '1' }));
    await t.settle();
    expect(t.loop.cache.nodeOfPod('default/p1')).toBe('n1');
    t.pendingBindings[0]?.reject(new Error('store unavailable'));
    await t.settle();
    expect(t.loop.cache.nodeOfPod('default/p1')).toBeUndefined();
    expect(t.events.map((e) => `${e.reason}: ${e.message}`)).toEqual(['FailedScheduling: Binding rejected: store unavailable']);
    t.clock.advance(schedulerLimits.podInitialBackoffMs - 1);
    await t.settle();
    expect(t.bindings().length).toBe(1);
    t.clock.advance(1);
    await t.settle();
    expect(t.bindings()).toEqual([{ pod: 'p1', node: 'n1' }, { pod: 'p1', node: 'n1' }]);
    t.loop.stop();
  });

  it('a bound pod the informer confirms replaces the assumed one; one it never confirms expires', async () => {
    const t = setup();
    t.nodes.set(node('n1', { cpu: '2' }));
    t.pods.set(pod('p1', { cpu: '1' }));
    t.pods.set(pod('p2', { cpu: '1' }));
    await t.settle();
    for (const b of t.pendingBindings) b.resolve();
    await t.settle();
    t.pods.set(pod('p1', { cpu: '1', nodeName: 'n1' })); // the informer shows p1 bound; p2's update never comes
    t.clock.advance(schedulerLimits.assumedPodTtlMs + schedulerLimits.housekeepingIntervalMs);
    await t.settle();
    expect(t.loop.cache.nodeOfPod('default/p1')).toBe('n1');
    expect(t.loop.cache.nodeOfPod('default/p2')).toBeUndefined();
    expect(t.events.filter((e) => e.reason === 'Scheduled').map((e) => e.message).sort())
      .toEqual(['Successfully assigned default/p1 to n1', 'Successfully assigned default/p2 to n1']);
    t.loop.stop();
  });

  it('an unschedulable pod gets PodScheduled=False and the Event, and is placed when a node that fits is added', async () => {
    const t = setup();
    t.nodes.set(node('small', { cpu: '1' }));
    t.pods.set(pod('big', { cpu: '2' }));
    await t.settle();
    const message = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..';
    expect(t.events).toEqual([{ name: 'big', reason: 'FailedScheduling', message }]);
    const status = t.calls.find((c) => c.verb === 'patch' && c.subresource === 'status');
    expect(status?.body.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message])).toEqual([['PodScheduled', 'False', 'Unschedulable', message]]);
    // Our own status update must not make the pod retry.
    t.pods.set({ ...pod('big', { cpu: '2' }), status: { phase: 'Pending', conditions: status?.body.status.conditions } });
    await t.settle();
    expect(t.bindings()).toEqual([]);
    expect(t.loop.stats.decisions).toBe(1);
    t.clock.advance(schedulerLimits.podInitialBackoffMs); // the node arrives after the backoff
    t.nodes.set(node('large', { cpu: '4' }));
    await t.settle();
    expect(t.bindings()).toEqual([{ pod: 'big', node: 'large' }]);
    t.loop.stop();
  });

  it('preemption deletes the victim and nominates the node', async () => {
    const t = setup();
    t.nodes.set(node('n1', { cpu: '2' }));
    t.pods.set(pod('low', { cpu: '2', priority: 1, nodeName: 'n1' }));
    t.pods.set(pod('high', { cpu: '2', priority: 100 }));
    await t.settle();
    expect(t.calls.filter((c) => c.verb === 'delete').map((c) => c.name)).toEqual(['low']);
    expect(t.calls.filter((c) => c.verb === 'patch' && c.body.status?.nominatedNodeName).map((c) => c.body.status.nominatedNodeName)).toEqual(['n1']);
    expect(t.events.filter((e) => e.reason === 'Preempted').map((e) => e.message)).toEqual(['Preempted by pod uid-high on node n1']);
    t.loop.stop();
  });
});
