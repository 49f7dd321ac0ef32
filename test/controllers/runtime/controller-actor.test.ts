/**
 * A controller actor on a fake API: it subscribes and syncs its informers before any reconcile,
 * reconciles only once its component leads (a warm term syncs but waits), runs one key per
 * worker at a time with N workers, honours requeueAfterMs, and stops handing out keys when
 * stopped. Also: the `--controllers` and controller flag parsing, and Event aggregation.
 */
import { describe, expect, test } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock, SystemClock, createJsonLogger } from '../../../bus/index.js';
import { controllerMachine } from '../../../actors/controllers/runtime/controller-actor.js';
import { SharedInformerFactory } from '../../../actors/controllers/runtime/informer-factory.js';
import { RateLimitedWorkQueue } from '../../../actors/controllers/runtime/work-queue.js';
import { ApiEventRecorder } from '../../../actors/controllers/runtime/event-recorder.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import { controllerOptions, enabledControllers, parseDurationMs, workersFor } from '../../../actors/controllers/runtime/controller-flags.js';
import type { ControllerContext, ControllerSpec } from '../../../actors/controllers/runtime/types.js';
import { objectKey, type KubeObject } from '../../../actors/objects/meta.js';
import { FakeApi, settle } from './fake-api.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });
const node = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });

function controller(api: FakeApi, reconcile: ControllerSpec['reconcile'], workers = 1) {
  const clock = new SystemClock();
  const factory = new SharedInformerFactory({ api, clock, logger });
  factory.start();
  const ctx: ControllerContext = { api, informers: factory, events: { record: () => undefined }, clock, logger, options: {} };
  const queue = new RateLimitedWorkQueue({ name: 'nodes', clock, logger });
  const spec: ControllerSpec = {
    name: 'nodes', resource: refs.nodes,
    watch: (c, q) => c.informers.informer(refs.nodes).addHandlers({ onAdd: (o) => q.add(objectKey(o)), onUpdate: (_, o) => q.add(objectKey(o)) }),
    reconcile,
  };
  const actor = createActor(controllerMachine, { input: { spec, ctx, queue, workers, maxRetries: 3, fallbackObject: node('lease') } });
  actor.start();
  return { actor, queue, factory };
}

const until = async (what: () => boolean, ms = 2_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('controller actor', () => {
  test('syncs first, reconciles only after controller.lead, then every key once', async () => {
    const api = new FakeApi();
    for (const name of ['a', 'b', 'c']) api.putSilently(refs.nodes, node(name));
    const seen: string[] = [];
    const { actor } = controller(api, async (key) => void seen.push(key));
    actor.send({ type: 'controller.start' });
    await until(() => actor.getSnapshot().matches('ready'));
    expect(seen).toEqual([]);
    actor.send({ type: 'controller.lead' });
    await until(() => seen.length === 3);
    expect(actor.getSnapshot().matches('running')).toBe(true);
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
    actor.send({ type: 'controller.stop' });
    await until(() => actor.getSnapshot().status === 'done');
  });

  test('a lead that arrives while syncing is remembered', async () => {
    const api = new FakeApi();
    api.putSilently(refs.nodes, node('a'));
    const seen: string[] = [];
    const { actor } = controller(api, async (key) => void seen.push(key));
    actor.send({ type: 'controller.start' });
    actor.send({ type: 'controller.lead' });
    await until(() => seen.length === 1);
  });

  test('N workers run different keys at once, never the same key twice at once', async () => {
    const api = new FakeApi();
    for (const name of ['a', 'b', 'c', 'd']) api.putSilently(refs.nodes, node(name));
    let running = 0;
    let most = 0;
    const inProgress = new Set<string>();
    let overlap = false;
    let calls = 0;
    const { actor, queue } = controller(api, async (key) => {
      calls++;
      if (inProgress.has(key)) overlap = true;
      inProgress.add(key);
      running++;
      most = Math.max(most, running);
      if (calls === 1) queue.add(key); // re-added while in progress: runs again after, not beside
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      inProgress.delete(key);
    }, 3);
    actor.send({ type: 'controller.start' });
    actor.send({ type: 'controller.lead' });
    await until(() => calls === 5 && running === 0);
    expect(most).toBe(3);
    expect(overlap).toBe(false);
    actor.send({ type: 'controller.stop' });
  });

  test('requeueAfterMs brings the key back; stop hands out no more keys', async () => {
    const api = new FakeApi();
    api.putSilently(refs.nodes, node('a'));
    let calls = 0;
    const { actor } = controller(api, async () => {
      calls++;
      return { requeueAfterMs: 10 };
    });
    actor.send({ type: 'controller.start' });
    actor.send({ type: 'controller.lead' });
    await until(() => calls >= 3);
    actor.send({ type: 'controller.stop' });
    await until(() => actor.getSnapshot().status === 'done');
    const stoppedAt = calls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(stoppedAt);
  });
});

describe('controller flags', () => {
  const known = ['deployment', 'replicaset', 'nodelifecycle'];

  test('--controllers: * all, -name removes, a list names exactly; unknown names are refused', () => {
    expect([...enabledControllers(undefined, known)]).toEqual(known);
    expect([...enabledControllers('*,-nodelifecycle', known)]).toEqual(['deployment', 'replicaset']);
    expect([...enabledControllers('replicaset', known)]).toEqual(['replicaset']);
    expect([...enabledControllers('-*', known)]).toEqual([]);
    expect(() => enabledControllers('*,-replicaset,typo', known)).toThrow(/"typo", which is not a controller/);
  });

  test('durations as Go writes them; options in camelCase with milliseconds beside durations', () => {
    expect(['40s', '1m30s', '500ms', '2h', '0'].map((d) => parseDurationMs(d))).toEqual([40_000, 90_000, 500, 7_200_000, 0]);
    expect(() => parseDurationMs('40')).toThrow(/duration/);
    const options = controllerOptions({ nodeMonitorGracePeriod: '8s' }, ['pod-eviction-timeout=2m', 'enable-thing=true', 'node-cidr-mask-size=26']);
    expect(options['nodeMonitorGracePeriod']).toBe('8s');
    expect(options['nodeMonitorGracePeriodMs']).toBe(8_000);
    expect(options['clusterCidr']).toBe('10.244.0.0/16');
    expect(options['nodeCidrMaskSize']).toBe(26);
    expect(options['podEvictionTimeoutMs']).toBe(120_000);
    expect(options['enableThing']).toBe(true);
  });

  test('--concurrent-workers: N for all, or per controller; else the spec, else 1', () => {
    expect(workersFor('deployment', '5', 2, 1)).toBe(5);
    expect(workersFor('deployment', 'replicaset=3,deployment=7', 2, 1)).toBe(7);
    expect(workersFor('nodelifecycle', 'replicaset=3', 2, 1)).toBe(2);
    expect(workersFor('nodelifecycle', undefined, undefined, 1)).toBe(1);
  });
});

describe('event recorder', () => {
  test('a repeat of (object, type, reason, message) bumps count on the same Event; a different message is a new Event', async () => {
    const api = new FakeApi();
    const clock = new SimulatedClock();
    const recorder = new ApiEventRecorder({ api, component: 'kube-controller-manager', instance: 's1_x', wallClock: () => new Date(Date.UTC(2026, 0, 1) + clock.now()), logger });
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
    recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    clock.advance(5_000);
    recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    recorder.record(pod, 'Normal', 'Scheduled', 'assigned');
    await recorder.flush();
    const { items } = await api.list<KubeObject & Record<string, any>>(refs.events);
    expect(items.map((e) => [e['reason'], e['count'], e['firstTimestamp'], e['lastTimestamp'], e['involvedObject'].uid, e['source'].component])).toEqual([
      ['FailedScheduling', 2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 'u1', 'kube-controller-manager'],
      ['Scheduled', 1, '2026-01-01T00:00:05Z', '2026-01-01T00:00:05Z', 'u1', 'kube-controller-manager'],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  });

  test('never throws: a failing API is logged and the caller goes on', async () => {
    const api = new FakeApi();
    api.down = true;
    const recorder = new ApiEventRecorder({ api, component: 'c', instance: 'i', wallClock: () => new Date(0), logger });
    expect(() => recorder.record(node('n'), 'Normal', 'R', 'm')).not.toThrow();
    await recorder.flush();
  });
});
