/**
 * The shared informer on a fake API: it lists in pages and watches from the list's
 * resourceVersion; a stream that ends is reopened from the last resourceVersion seen (bookmarks
 * included); a 410 relists and reports objects that vanished meanwhile as deletes and changed
 * ones as updates; the indexes follow every change; handlers run in registration order.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import { SharedInformer } from '../../../actors/controllers/runtime/informer.js';
import { SharedInformerFactory } from '../../../actors/controllers/runtime/informer-factory.js';
import { GoneError } from '../../../actors/controllers/runtime/api-errors.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { KubeObject } from '../../../actors/objects/meta.js';
import { FakeApi, settle } from './fake-api.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

function pod(name: string, extra: { node?: string; labels?: Record<string, string>; owner?: string; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: extra.namespace ?? 'default', ...(extra.labels !== undefined ? { labels: extra.labels } : {}),
      ...(extra.owner !== undefined ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: extra.owner, controller: true }] } : {}),
    },
    spec: { ...(extra.node !== undefined ? { nodeName: extra.node } : {}) },
  };
}

async function started(api: FakeApi, options: { pageSize?: number; objectsMax?: number } = {}) {
  const clock = new SimulatedClock();
  const informer = new SharedInformer({ api, resource: refs.pods, clock, logger, ...options });
  const log: string[] = [];
  informer.addHandlers({
    onAdd: (o) => log.push(`add ${o.metadata.name}`),
    onUpdate: (_, o) => log.push(`update ${o.metadata.name}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  informer.start();
  await settle();
  return { clock, informer, log };
}

describe('shared informer', () => {
  test('lists in pages of the page size, then watches from the list resourceVersion', async () => {
    const api = new FakeApi();
    for (const name of ['a', 'b', 'c', 'd', 'e']) api.putSilently(refs.pods, pod(name));
    const { informer, log } = await started(api, { pageSize: 2 });
    expect(api.calls.filter((c) => c.startsWith('list'))).toEqual(['list pods ', 'list pods 2', 'list pods 4']);
    expect(informer.hasSynced()).toBe(true);
    expect(log).toEqual(['add a', 'add b', 'add c', 'add d', 'add e']);
    expect(api.watchesFrom).toEqual(['5']);
  });

  test('watch events update the cache and the indexes (namespace, nodeName, owner, custom)', async () => {
    const api = new FakeApi();
    const { informer, log } = await started(api);
    informer.addIndex('app', (o) => (o.metadata.labels?.['app'] !== undefined ? [o.metadata.labels['app']] : []));
    await api.create(refs.pods, 'default', pod('p1', { node: 'n1', owner: 'rs-uid', labels: { app: 'web' } }));
    await api.create(refs.pods, 'other', pod('p2', { node: 'n1', labels: { app: 'db' }, namespace: 'other' }));
    expect(informer.byIndex('nodeName', 'n1').map((o) => o.metadata.name).sort()).toEqual(['p1', 'p2']);
    expect(informer.byIndex('owner', 'rs-uid').map((o) => o.metadata.name)).toEqual(['p1']);
    expect(informer.byIndex('namespace', 'other').map((o) => o.metadata.name)).toEqual(['p2']);
    expect(informer.byIndex('app', 'web').map((o) => o.metadata.name)).toEqual(['p1']);
    expect(informer.matching('app in (web,db)').map((o) => o.metadata.name).sort()).toEqual(['p1', 'p2']);
    expect(informer.matching({ matchLabels: { app: 'db' } }, 'default')).toEqual([]);
    await api.update(refs.pods, 'default', 'p1', { ...pod('p1', { node: 'n2', labels: { app: 'web' } }) });
    expect(informer.byIndex('nodeName', 'n1').map((o) => o.metadata.name)).toEqual(['p2']);
    expect(informer.byIndex('nodeName', 'n2').map((o) => o.metadata.name)).toEqual(['p1']);
    expect(informer.byIndex('owner', 'rs-uid')).toEqual([]);
    await api.delete(refs.pods, 'other', 'p2');
    expect(informer.byIndex('nodeName', 'n1')).toEqual([]);
    expect(informer.get('other/p2')).toBeUndefined();
    expect(log).toEqual(['add p1', 'add p2', 'update p1', 'delete p2']);
  });

  test('a stream that ends resumes from the last resourceVersion seen, bookmarks included', async () => {
    const api = new FakeApi();
    const { clock, informer } = await started(api);
    await api.create(refs.pods, 'default', pod('p1'));
    api.bookmark(refs.pods);
    api.endWatches(refs.pods); // server timeout: reopened at once
    await settle();
    expect(api.watchesFrom).toEqual(['0', '2']);
    api.endWatches(refs.pods, new Error('stream lost')); // reopened after backoff
    await settle();
    expect(api.watchesFrom).toEqual(['0', '2']);
    clock.advance(200);
    await settle();
    expect(api.watchesFrom).toEqual(['0', '2', '2']);
    expect(api.calls.filter((c) => c.startsWith('list'))).toHaveLength(1);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['p1']);
  });

  test('410 relists: vanished objects are reported deleted, changed ones updated, unchanged ones not at all', async () => {
    const api = new FakeApi();
    api.putSilently(refs.pods, pod('keep'));
    api.putSilently(refs.pods, pod('change'));
    api.putSilently(refs.pods, pod('vanish'));
    const { clock, informer, log } = await started(api);
    log.length = 0;
    api.endWatches(refs.pods, new Error('gone away'));
    // While no watch is open: one deleted, one changed, one created; then history is compacted.
    api.deleteSilently(refs.pods, 'default/vanish');
    api.putSilently(refs.pods, pod('change', { node: 'n9' }));
    api.putSilently(refs.pods, pod('new'));
    api.compactedThrough = api.revision;
    clock.advance(200); // the watch reopens from resourceVersion 3, now compacted: 410, relist
    await settle();
    expect(api.watchesFrom).toEqual(['3', '3', '6']);
    expect(log).toEqual(['update change', 'add new', 'delete vanish']);
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['change', 'keep', 'new']);
    expect(informer.byIndex('nodeName', 'n9').map((o) => o.metadata.name)).toEqual(['change']);
  });

  test('a stream ended by a 410 relists at once', async () => {
    const api = new FakeApi();
    api.putSilently(refs.pods, pod('a'));
    await started(api);
    api.endWatches(refs.pods, new GoneError(410, 'Expired', 'too old', undefined, undefined));
    await settle();
    expect(api.calls.filter((c) => c.startsWith('list'))).toHaveLength(2);
    expect(api.openWatches(refs.pods)).toBe(1);
  });

  test('a watch refused with 410 at start relists too', async () => {
    const api = new FakeApi();
    api.putSilently(refs.pods, pod('a'));
    const { clock } = await started(api);
    api.compactedThrough = 100;
    api.endWatches(refs.pods, new Error('lost'));
    clock.advance(200);
    await settle();
    expect(api.calls.filter((c) => c.startsWith('list'))).toHaveLength(2);
  });

  test('handlers run in registration order; a late handler gets the cache replayed as adds; one that throws does not stop the next', async () => {
    const api = new FakeApi();
    api.putSilently(refs.pods, pod('a'));
    const { informer } = await started(api);
    const order: string[] = [];
    informer.addHandlers({ onAdd: (o) => order.push(`first ${o.metadata.name}`) });
    informer.addHandlers({ onAdd: () => { throw new Error('handler bug'); } });
    const unsubscribe = informer.addHandlers({ onAdd: (o) => order.push(`third ${o.metadata.name}`) });
    await api.create(refs.pods, 'default', pod('b'));
    unsubscribe();
    await api.create(refs.pods, 'default', pod('c'));
    expect(order).toEqual(['first a', 'third a', 'first b', 'third b', 'first c']);
  });

  test('more objects than objectsMax: the informer refuses to sync', async () => {
    const api = new FakeApi();
    for (const name of ['a', 'b', 'c']) api.putSilently(refs.pods, pod(name));
    const { informer } = await started(api, { objectsMax: 2 });
    expect(informer.hasSynced()).toBe(false);
    expect(informer.list()).toEqual([]);
  });

  test('one informer per resource per factory; waitForSync resolves once all synced', async () => {
    const api = new FakeApi();
    const factory = new SharedInformerFactory({ api, clock: new SimulatedClock(), logger });
    expect(factory.informer(refs.pods)).toBe(factory.informer(refs.pods));
    factory.informer(refs.nodes);
    factory.start();
    await factory.waitForSync(1_000);
    expect(api.calls.filter((c) => c.startsWith('list'))).toEqual(['list pods ', 'list nodes ']);
  });
});
