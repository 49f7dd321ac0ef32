/**
 * The binder's reconcile glue (persistent-volume-binder.ts, claim-sync.ts, volume-sync.ts) against
 * an in-memory API with Kubernetes' write rules and informers the test refreshes by hand: two
 * claims racing for one volume from a stale cache end on two volumes (never one volume for both);
 * WaitForFirstConsumer provisioning on the selected node with its Events; release and reclaim by
 * policy, only after the API (not a lagging cache) says the claim is gone; Lost; the default class.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../actors/objects/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { persistentVolumeBinder } from '../../actors/controllers/volume/index.js';
import { FakeApi, FakeQueue, fakeContext } from './volume-fake-cluster.js';
import { pv, pvc } from './volume-fixtures.js';

const asObject = (o: PersistentVolume | PersistentVolumeClaim): KubeObject => o as unknown as KubeObject;
const localPath = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete',
};

let api: FakeApi;
let cluster: ReturnType<typeof fakeContext>;
let queue: FakeQueue;
const binder = persistentVolumeBinder();

beforeEach(() => {
  api = new FakeApi();
  cluster = fakeContext(api);
  queue = new FakeQueue();
  binder.watch(cluster.ctx, queue);
});

async function claim(name: string): Promise<PersistentVolumeClaim> {
  return api.get<PersistentVolumeClaim>(refs.persistentvolumeclaims, 'ns', name);
}
async function volume(name: string): Promise<PersistentVolume> {
  return api.get<PersistentVolume>(refs.persistentvolumes, undefined, name);
}
async function createClaim(object: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
  return (await api.put(refs.persistentvolumeclaims, asObject(object))) as unknown as PersistentVolumeClaim;
}

describe('binding', () => {
  it('two claims racing for one volume from a stale cache: the loser re-reads and takes the next volume', async () => {
    await api.put(refs.persistentvolumes, asObject(pv('only', { size: '1Gi', cls: 'manual' })));
    await api.put(refs.persistentvolumes, asObject(pv('second', { size: '2Gi', cls: 'manual' })));
    await createClaim(pvc('a', { size: '1Gi', cls: 'manual', uid: 'ua' }));
    await createClaim(pvc('b', { size: '1Gi', cls: 'manual', uid: 'ub' }));
    await cluster.refresh();
    await binder.reconcile('ns/a', cluster.ctx, queue);
    // No refresh: b's informers still show `only` free, as a watch lagging behind a's write would.
    await binder.reconcile('ns/b', cluster.ctx, queue);
    expect((await volume('only')).spec?.claimRef).toMatchObject({ name: 'a', uid: 'ua' });
    expect((await volume('second')).spec?.claimRef).toMatchObject({ name: 'b', uid: 'ub' });
    expect((await claim('a')).spec?.volumeName).toBe('only');
    expect((await claim('b')).spec?.volumeName).toBe('second');
    expect((await claim('b')).status).toEqual({ phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
    expect((await volume('second')).status?.phase).toBe('Bound');
    expect((await claim('b')).metadata?.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    // b's first try on `only` was refused: one claimRef write per volume, never a second on `only`.
    expect(api.writes.filter((w) => w === 'update persistentvolumes/only')).toEqual(['update persistentvolumes/only']);
  });

  it('a binding interrupted after the volume side is finished by the next sync without rewriting the volume', async () => {
    await api.put(refs.persistentvolumes, asObject(pv('v', { cls: 'manual', claimRef: { namespace: 'ns', name: 'c' } })));
    const created = await createClaim(pvc('c', { cls: 'manual' }));
    const ref = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'ns', name: 'c', uid: created.metadata?.uid ?? '' };
    const current = await volume('v');
    await api.update(refs.persistentvolumes, undefined, 'v', { ...current, spec: { ...current.spec, claimRef: ref } });
    await cluster.refresh();
    api.writes.length = 0;
    await binder.reconcile('ns/c', cluster.ctx, queue);
    expect(api.writes).toEqual(['update persistentvolumes/v/status', 'update persistentvolumeclaims/c', 'update persistentvolumeclaims/c/status']);
    // Named by the user (claimRef without uid at first): no bound-by-controller on the volume.
    expect((await volume('v')).metadata?.annotations).toBeUndefined();
  });
});

describe('WaitForFirstConsumer provisioning', () => {
  it('waits for the scheduler, then provisions on the selected node and binds', async () => {
    await api.put(refs.storageclasses, localPath as KubeObject);
    const created = await createClaim(pvc('data', { size: '3Gi', cls: null }));
    await cluster.refresh();
    await binder.reconcile('ns/data', cluster.ctx, queue);
    expect((await claim('data')).spec?.storageClassName).toBe('local-path');
    expect(cluster.events.map((e) => e.reason)).toEqual(['WaitForFirstConsumer']);
    expect(cluster.events[0]?.message).toBe('waiting for first consumer to be created before binding');
    const waiting = await claim('data');
    await api.update(refs.persistentvolumeclaims, 'ns', 'data', { ...waiting, metadata: { ...waiting.metadata, annotations: { 'volume.kubernetes.io/selected-node': 'n2' } } });
    await cluster.refresh();
    await binder.reconcile('ns/data', cluster.ctx, queue);
    const uid = created.metadata?.uid ?? '';
    const provisioned = await volume(`pvc-${uid}`);
    expect(provisioned.spec?.nodeAffinity?.required?.nodeSelectorTerms).toEqual([{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }]);
    expect(provisioned.spec?.hostPath?.path).toBe(`/var/lib/kubus/local-path/pvc-${uid}_ns_data`);
    expect(provisioned.status?.phase).toBe('Bound');
    const bound = await claim('data');
    expect(bound.spec?.volumeName).toBe(`pvc-${uid}`);
    expect(bound.status?.phase).toBe('Bound');
    expect(bound.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner']).toBe('kubus.io/local-path');
    expect(cluster.events.map((e) => `${e.type} ${e.reason}`)).toEqual([
      'Normal WaitForFirstConsumer', 'Normal ExternalProvisioning', 'Normal Provisioning', 'Normal ProvisioningSucceeded',
    ]);
    expect(cluster.events[3]?.message).toBe(`Successfully provisioned volume pvc-${uid}`);
  });
});

describe('repeated work', () => {
  it('a volume already provisioned (a retry, or the previous leader) is bound, not created twice', async () => {
    await api.put(refs.storageclasses, localPath as KubeObject);
    const created = await createClaim(pvc('data', { cls: 'local-path', annotations: { 'volume.kubernetes.io/selected-node': 'n1' } }));
    await cluster.refresh();
    // The previous leader's volume, written after this process's informers last heard.
    const uid = created.metadata?.uid ?? '';
    await api.put(refs.persistentvolumes, asObject(pv(`pvc-${uid}`, { cls: 'local-path', node: 'n1', phase: 'Pending', claimRef: { namespace: 'ns', name: 'data', uid } })));
    api.writes.length = 0;
    await binder.reconcile('ns/data', cluster.ctx, queue);
    expect(api.writes.filter((w) => w.startsWith('create'))).toEqual([]);
    expect((await claim('data')).spec?.volumeName).toBe(`pvc-${uid}`);
    expect((await volume(`pvc-${uid}`)).status?.phase).toBe('Bound');
  });

  it('a volume the controller bound to a claim that took another volume is freed', async () => {
    const created = await createClaim(pvc('c', { cls: 'manual', volumeName: 'other', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' }, phase: 'Bound' }));
    const stray = pv('stray', { cls: 'manual', phase: 'Bound', claimRef: { namespace: 'ns', name: 'c', uid: created.metadata?.uid ?? '' } });
    stray.metadata = { ...stray.metadata, annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } };
    await api.put(refs.persistentvolumes, asObject(stray));
    await cluster.refresh();
    await binder.reconcile('stray', cluster.ctx, queue);
    const freed = await volume('stray');
    expect({ claimRef: freed.spec?.claimRef, phase: freed.status?.phase, annotations: freed.metadata?.annotations }).toEqual({ claimRef: undefined, phase: 'Available', annotations: {} });
  });
});

describe('release and reclaim', () => {
  async function boundPair(policy: 'Retain' | 'Delete', provisionedBy?: string): Promise<void> {
    const created = await createClaim(pvc('c', { cls: 'manual', volumeName: 'v', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' }, phase: 'Bound' }));
    const volumeObject = pv('v', { cls: 'manual', phase: 'Bound', claimRef: { namespace: 'ns', name: 'c', uid: created.metadata?.uid ?? '' } });
    volumeObject.spec = { ...volumeObject.spec, persistentVolumeReclaimPolicy: policy };
    if (provisionedBy !== undefined) volumeObject.metadata = { ...volumeObject.metadata, annotations: { 'pv.kubernetes.io/provisioned-by': provisionedBy } };
    await api.put(refs.persistentvolumes, asObject(volumeObject));
  }

  it('a claim missing only from a lagging cache releases nothing', async () => {
    await cluster.refresh();
    await boundPair('Delete', 'kubus.io/local-path');
    const informer = cluster.ctx.informers.informer(refs.persistentvolumes) as unknown as { refresh(): Promise<void> };
    await informer.refresh();
    await binder.reconcile('v', cluster.ctx, queue);
    expect((await volume('v')).status?.phase).toBe('Bound');
  });

  it('Retain: Released and kept', async () => {
    await boundPair('Retain');
    await api.delete(refs.persistentvolumeclaims, 'ns', 'c');
    await cluster.refresh();
    await binder.reconcile('v', cluster.ctx, queue);
    expect((await volume('v')).status?.phase).toBe('Released');
    await cluster.refresh();
    await binder.reconcile('v', cluster.ctx, queue);
    expect((await volume('v')).status?.phase).toBe('Released');
  });

  it('Delete: Released, then the provisioner frees it and the volume is deleted', async () => {
    await boundPair('Delete', 'kubus.io/local-path');
    await api.delete(refs.persistentvolumeclaims, 'ns', 'c');
    await cluster.refresh();
    await binder.reconcile('v', cluster.ctx, queue);
    await expect(volume('v')).rejects.toThrow(/not found/);
    expect(api.writes.slice(-2)).toEqual(['update persistentvolumes/v/status', 'delete persistentvolumes/v']);
  });

  it('Delete on a volume no provisioner made: Failed, as Kubernetes without a deleter', async () => {
    await boundPair('Delete');
    await api.delete(refs.persistentvolumeclaims, 'ns', 'c');
    await cluster.refresh();
    await binder.reconcile('v', cluster.ctx, queue);
    const failed = await volume('v');
    expect(failed.status).toEqual({ phase: 'Failed', message: 'error getting deleter volume plugin for volume "v": no deletable volume plugin matched' });
    expect(cluster.events.map((e) => `${e.object} ${e.reason}`)).toEqual(['PersistentVolume/v VolumeFailedDelete']);
  });

  it('a bound claim whose volume is gone is Lost', async () => {
    await boundPair('Retain');
    await api.delete(refs.persistentvolumes, undefined, 'v');
    await cluster.refresh();
    await binder.reconcile('ns/c', cluster.ctx, queue);
    expect((await claim('c')).status?.phase).toBe('Lost');
    expect(cluster.events).toEqual([{ object: 'PersistentVolumeClaim/c', type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' }]);
  });
});

describe('the default StorageClass', () => {
  it('is created at start when absent (and the start enqueues it)', async () => {
    expect(queue.added).toContain('storageclass:local-path');
    await binder.reconcile('storageclass:local-path', cluster.ctx, queue);
    const created = await api.get<KubeObject>(refs.storageclasses, undefined, 'local-path');
    expect(created).toMatchObject({ provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' });
    expect(created.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
  });

  it('is not made the default when the administrator already has one', async () => {
    await api.put(refs.storageclasses, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'x' });
    await cluster.refresh();
    await binder.reconcile('storageclass:local-path', cluster.ctx, queue);
    expect((await api.get<KubeObject>(refs.storageclasses, undefined, 'local-path')).metadata.annotations).toBeUndefined();
  });
});
