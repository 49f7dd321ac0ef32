/**
 * Persistent volumes on a 3-member cluster of real processes: the controller manager (in the
 * member holding its Lease) runs the PV binder with the local-path provisioner, the scheduler
 * names the node of a WaitForFirstConsumer claim's first pod. Objects go through the API as a
 * user's would; every wait is on a condition with a deadline.
 *
 * - The built-in default StorageClass `local-path` exists.
 * - A claim binds to the one matching volume (smallest fit), not to volumes of another class, too
 *   small, or of another access mode; binding writes claimRef (uid), volumeName, the annotations
 *   and both phases; a claim naming its volume (`spec.volumeName`) binds to exactly that one;
 *   10 claims created at once for 6 volumes: 6 bound one to one, 4 Pending, none sharing a volume.
 * - Reclaim: Retain keeps a Released volume; Delete on a provisioned volume removes it; a bound
 *   claim whose volume is deleted becomes Lost.
 * - WaitForFirstConsumer, the scheduler's part simulated (the test annotates selected-node): the
 *   volume is provisioned on that node and bound.
 * - End to end (`kubectl apply` of a claim without a class and its pod): the claim gets the default
 *   class, the scheduler places the pod, and the provisioned volume's node affinity names its node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isNotFound, refs, type ApiClient } from '../../actors/controllers/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'volumes';
const settleMs = 30_000;

function volume(name: string, fields: { size: string; cls?: string; modes?: string[]; policy?: string; labels?: Record<string, string> }): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, ...(fields.labels !== undefined ? { labels: fields.labels } : {}) },
    spec: {
      capacity: { storage: fields.size }, accessModes: fields.modes ?? ['ReadWriteOnce'], persistentVolumeReclaimPolicy: fields.policy ?? 'Retain',
      hostPath: { path: `/srv/${name}` }, ...(fields.cls !== undefined ? { storageClassName: fields.cls } : {}),
    },
  };
}

function claim(name: string, fields: { size: string; cls?: string; modes?: string[]; volumeName?: string; annotations?: Record<string, string> }): PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns, ...(fields.annotations !== undefined ? { annotations: fields.annotations } : {}) },
    spec: {
      accessModes: fields.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: fields.size } },
      ...(fields.cls !== undefined ? { storageClassName: fields.cls } : {}), ...(fields.volumeName !== undefined ? { volumeName: fields.volumeName } : {}),
    },
  };
}

describe.runIf(runs)('persistent volume binder (3 members)', () => {
  let h: ApiHarness;
  let api: ApiClient;
  let nodes: string[];
  let renewer: NodeLeaseRenewer;

  const getVolume = (name: string) => api.get<PersistentVolume>(refs.persistentvolumes, undefined, name);
  const getClaim = (name: string) => api.get<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns, name);
  const createVolume = (object: PersistentVolume) => api.create<PersistentVolume>(refs.persistentvolumes, undefined, object);
  const createClaim = (object: PersistentVolumeClaim) => api.create<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns, object);
  const claimPhase = (name: string, phase: string) => waitUntil(`claim ${name} ${phase}`, async () => {
    const current = await getClaim(name);
    return current.status?.phase === phase ? current : null;
  }, { timeoutMs: settleMs });
  const volumePhase = (name: string, phase: string) => waitUntil(`volume ${name} ${phase}`, async () => {
    const current = await getVolume(name);
    return current.status?.phase === phase ? current : null;
  }, { timeoutMs: settleMs });
  const volumeGone = (name: string) => waitUntil(`volume ${name} deleted`, async () => getVolume(name).then(() => false, (error: unknown) => isNotFound(error)), { timeoutMs: settleMs });
  const claimEvents = async (name: string): Promise<string[]> => {
    const { items } = await api.list<Event>(refs.events, { namespace: ns, fieldSelector: `involvedObject.name=${name}` });
    return items.map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
  };

  beforeAll(async () => {
    h = await startApiHarness();
    api = adminApi(h);
    await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    nodes = await createHollowNodes(h, 3, { prefix: 'disk' });
    renewer = startNodeLeaseRenewer(h, nodes);
  });

  afterAll(async () => {
    await renewer?.stop();
    await h?.stop();
  });

  it('creates the default StorageClass local-path', async () => {
    const storageClass = await waitUntil('StorageClass local-path', () => api.get<StorageClass>(refs.storageclasses, undefined, 'local-path').catch(() => null), { timeoutMs: settleMs });
    expect(storageClass).toMatchObject({
      metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubus.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
    });
  });

  it('binds a claim to the smallest matching volume and to none that does not match', async () => {
    const decoys = [
      volume('wrong-class', { size: '5Gi', cls: 'gold' }),
      volume('too-small', { size: '512Mi', cls: 'manual' }),
      volume('wrong-mode', { size: '2Gi', cls: 'manual', modes: ['ReadOnlyMany'] }),
      volume('bigger', { size: '10Gi', cls: 'manual' }),
    ];
    for (const decoy of decoys) await createVolume(decoy);
    await createVolume(volume('match', { size: '2Gi', cls: 'manual' }));
    await volumePhase('match', 'Available');
    const created = await createClaim(claim('data', { size: '1Gi', cls: 'manual' }));
    const bound = await claimPhase('data', 'Bound');
    expect(bound.spec?.volumeName).toBe('match');
    expect(bound.status).toEqual({ phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
    expect(bound.metadata?.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    const matched = await volumePhase('match', 'Bound');
    expect(matched.spec?.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: ns, name: 'data', uid: created.metadata?.uid });
    expect(matched.metadata?.annotations).toMatchObject({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    const printed = await h.kubectl(['get', 'pvc', 'data', '-n', ns, '--no-headers']);
    expect(printed.stdout).toMatch(/^data\s+Bound\s+match\s+2Gi\s+RWO\s+manual\s/);
    for (const decoy of decoys) {
      const current = await getVolume(decoy.metadata?.name ?? '');
      expect({ name: current.metadata?.name, phase: current.status?.phase, claimRef: current.spec?.claimRef }).toEqual({ name: decoy.metadata?.name, phase: 'Available', claimRef: undefined });
    }
  });

  it('never binds one volume to two claims: 10 claims created at once for 6 volumes', async () => {
    const volumeNames = Array.from({ length: 6 }, (_, i) => `race-${i}`);
    await Promise.all(volumeNames.map((name) => createVolume(volume(name, { size: '1Gi', cls: 'race' }))));
    const claimNames = Array.from({ length: 10 }, (_, i) => `racer-${i}`);
    await Promise.all(claimNames.map((name) => createClaim(claim(name, { size: '1Gi', cls: 'race' }))));
    const claims = await waitUntil('6 racers bound', async () => {
      const { items } = await api.list<PersistentVolumeClaim>(refs.persistentvolumeclaims, { namespace: ns });
      const racers = items.filter((c) => c.metadata?.name?.startsWith('racer-') === true);
      return racers.filter((c) => c.status?.phase === 'Bound').length === 6 ? racers : null;
    }, { timeoutMs: settleMs });
    const boundTo = claims.filter((c) => c.status?.phase === 'Bound').map((c) => c.spec?.volumeName ?? '');
    expect([...boundTo].sort()).toEqual(volumeNames);
    expect(claims.filter((c) => c.status?.phase === 'Pending').map((c) => c.spec?.volumeName)).toEqual([undefined, undefined, undefined, undefined]);
    for (const c of claims.filter((x) => x.status?.phase === 'Bound')) {
      expect((await getVolume(c.spec?.volumeName ?? '')).spec?.claimRef?.uid).toBe(c.metadata?.uid);
    }
    // The four left over are told why, and none of them got bound to a taken volume meanwhile.
    for (const c of claims.filter((x) => x.status?.phase === 'Pending')) {
      const name = c.metadata?.name ?? '';
      await waitUntil(`${name} told why`, async () => (await claimEvents(name)).includes('Warning ProvisioningFailed: storageclass.storage.k8s.io "race" not found'), { timeoutMs: settleMs });
    }
    const { items } = await api.list<PersistentVolumeClaim>(refs.persistentvolumeclaims, { namespace: ns });
    expect(items.filter((c) => c.metadata?.name?.startsWith('racer-') === true && c.status?.phase === 'Bound').map((c) => c.spec?.volumeName).sort()).toEqual(volumeNames);
  });

  it('binds a claim naming its volume (spec.volumeName) to exactly that volume', async () => {
    await createVolume(volume('named', { size: '3Gi', cls: 'manual' }));
    await createVolume(volume('closer-fit', { size: '1Gi', cls: 'manual' }));
    const created = await createClaim(claim('pinned', { size: '1Gi', cls: 'manual', volumeName: 'named' }));
    const bound = await claimPhase('pinned', 'Bound');
    expect(bound.spec?.volumeName).toBe('named');
    expect(bound.metadata?.annotations?.['pv.kubernetes.io/bind-completed']).toBe('yes');
    expect(bound.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller']).toBeUndefined();
    expect((await volumePhase('named', 'Bound')).spec?.claimRef?.uid).toBe(created.metadata?.uid);
    expect((await getVolume('closer-fit')).spec?.claimRef).toBeUndefined();
  });

  it('Retain keeps a Released volume; a bound claim whose volume is deleted is Lost', async () => {
    await createVolume(volume('kept', { size: '1Gi', cls: 'retained', policy: 'Retain' }));
    await createClaim(claim('keeper', { size: '1Gi', cls: 'retained' }));
    await claimPhase('keeper', 'Bound');
    await api.delete(refs.persistentvolumeclaims, ns, 'keeper');
    const released = await volumePhase('kept', 'Released');
    expect(released.spec?.claimRef?.name).toBe('keeper');

    await createVolume(volume('doomed', { size: '1Gi', cls: 'lost' }));
    await createClaim(claim('orphan', { size: '1Gi', cls: 'lost' }));
    await claimPhase('orphan', 'Bound');
    await api.delete(refs.persistentvolumes, undefined, 'doomed');
    await claimPhase('orphan', 'Lost');
    // The Event is recorded after the phase is written: wait for it rather than read once.
    await waitUntil('ClaimLost event', async () => (await claimEvents('orphan')).includes('Warning ClaimLost: Bound claim has lost its PersistentVolume. Data on the volume is lost!'), { timeoutMs: settleMs });
    // Still Released, not reclaimed, after everything above settled.
    expect((await getVolume('kept')).status?.phase).toBe('Released');
  });

  it('WaitForFirstConsumer with the scheduler simulated: provisioned on the selected node, bound, deleted with its claim', async () => {
    await createClaim(claim('scratch', { size: '2Gi', cls: 'local-path' }));
    await waitUntil('WaitForFirstConsumer event', async () => (await claimEvents('scratch')).includes('Normal WaitForFirstConsumer: waiting for first consumer to be created before binding'), { timeoutMs: settleMs });
    expect((await getClaim('scratch')).status?.phase).toBe('Pending');
    await api.patch(refs.persistentvolumeclaims, ns, 'scratch', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'disk-2' } } }, 'merge');
    const bound = await claimPhase('scratch', 'Bound');
    const name = `pvc-${bound.metadata?.uid ?? ''}`;
    expect(bound.spec?.volumeName).toBe(name);
    expect(bound.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner']).toBe('kubus.io/local-path');
    const provisioned = await volumePhase(name, 'Bound');
    expect(provisioned.metadata?.annotations?.['pv.kubernetes.io/provisioned-by']).toBe('kubus.io/local-path');
    expect(provisioned.spec).toMatchObject({
      capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
      hostPath: { path: `/var/lib/kubus/local-path/${name}_${ns}_scratch` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['disk-2'] }] }] } },
    });
    const events = await waitUntil('ProvisioningSucceeded event', async () => {
      const seen = await claimEvents('scratch');
      return seen.includes(`Normal ProvisioningSucceeded: Successfully provisioned volume ${name}`) ? seen : null;
    }, { timeoutMs: settleMs });
    expect(events.some((e) => e.startsWith("Normal ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'kubus.io/local-path'"))).toBe(true);
    await api.delete(refs.persistentvolumeclaims, ns, 'scratch');
    await volumeGone(name);
  });

  it('end to end: kubectl apply of a class-less claim and its pod; the scheduler places the pod, the volume follows it', async () => {
    const manifest = h.manifest('web.yaml', [
      'apiVersion: v1', 'kind: PersistentVolumeClaim', `metadata: {name: web-data, namespace: ${ns}}`,
      'spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}', '---',
      'apiVersion: v1', 'kind: Pod', `metadata: {name: web, namespace: ${ns}}`, 'spec:', '  containers:',
      '  - {name: web, image: nginx, resources: {requests: {cpu: 100m}}, volumeMounts: [{name: data, mountPath: /data}]}',
      '  volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]', '',
    ].join('\n'));
    const applied = await h.kubectl(['apply', '-f', manifest]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('persistentvolumeclaim/web-data created\npod/web created\n');
    const nodeName = await waitUntil('pod web scheduled', async () => (await api.get<Pod>(refs.pods, ns, 'web')).spec?.nodeName ?? null, { timeoutMs: settleMs });
    expect(nodes).toContain(nodeName);
    const bound = await claimPhase('web-data', 'Bound');
    expect(bound.spec?.storageClassName).toBe('local-path');
    expect(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node']).toBe(nodeName);
    const provisioned = await volumePhase(bound.spec?.volumeName ?? '', 'Bound');
    expect(provisioned.spec?.nodeAffinity?.required?.nodeSelectorTerms).toEqual([{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }]);
  });
});
