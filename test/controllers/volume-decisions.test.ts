/**
 * The binder's decisions (claim-decision.ts, volume-decision.ts), its writes (binding-writes.ts) and
 * the local-path provisioner, each from plain objects: every branch of Kubernetes' syncClaim and
 * syncVolume that kubus implements, with the exact Event reasons and messages.
 */
import { describe, expect, it } from 'vitest';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  binderMessages, claimBoundStatusWrite, claimVolumeNameWrite, decideClaim, decideVolume, defaultClass, localPathStorageClass, localPathVolumeSpec,
  provisionedVolume, unboundVolume, volumeClaimRefWrite, volumePhaseWrite, type ClaimSituation,
} from '../../actors/controllers/volume/index.js';
import { pv, pvc } from './volume-fixtures.js';

const localLocal = new Set(['kubus.io/local-path']);
const wffc: StorageClass = { metadata: { name: 'local-path' }, provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' };
const immediateExternal: StorageClass = { metadata: { name: 'remote' }, provisioner: 'example.com/nfs', volumeBindingMode: 'Immediate' };
const n1 = { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } };

function situation(fields: Partial<ClaimSituation> & Pick<ClaimSituation, 'claim'>): ClaimSituation {
  return { volumes: [], classes: [], nodeLocalProvisioners: localLocal, ...fields };
}

describe('decideClaim: unbound claims', () => {
  it('binds to the matching volume', () => {
    const action = decideClaim(situation({ claim: pvc('c', { cls: 'manual' }), volumes: [pv('v', { cls: 'manual' })] }));
    expect(action).toEqual({ kind: 'bind', volume: pv('v', { cls: 'manual' }) });
  });

  it('gives a claim without a class the default class first (newest default wins)', () => {
    const older = { ...localPathStorageClass(), metadata: { ...localPathStorageClass().metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
    const newer: StorageClass = { metadata: { name: 'fast', creationTimestamp: '2026-02-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'x' };
    expect(defaultClass([older, newer])?.metadata?.name).toBe('fast');
    expect(decideClaim(situation({ claim: pvc('c', { cls: null }), classes: [older] }))).toEqual({ kind: 'setDefaultClass', className: 'local-path' });
    // No default class: the claim stays class-less and binds only class-less volumes.
    expect(decideClaim(situation({ claim: pvc('c', { cls: null }), volumes: [pv('v')] }))).toMatchObject({ kind: 'bind' });
  });

  it('without a volume and without a class: Pending, FailedBinding', () => {
    expect(decideClaim(situation({ claim: pvc('c'), volumes: [pv('small', { size: '1Mi' })] }))).toEqual({
      kind: 'pending', event: { type: 'Normal', reason: 'FailedBinding', message: binderMessages.noVolumeNoClass },
    });
  });

  it('WaitForFirstConsumer: waits without a node, provisions on the selected node', () => {
    const claim = pvc('c', { cls: 'local-path' });
    expect(decideClaim(situation({ claim, classes: [wffc] }))).toEqual({
      kind: 'pending', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' },
    });
    expect(decideClaim(situation({ claim, classes: [wffc], selectedNode: n1 }))).toEqual({ kind: 'provision', storageClass: wffc, selectedNode: 'n1' });
  });

  it('WaitForFirstConsumer: binds an existing volume only when it is reachable from the selected node', () => {
    const claim = pvc('c', { cls: 'local-path' });
    const onN1 = pv('on-n1', { cls: 'local-path', node: 'n1' });
    const onN2 = pv('on-n2', { cls: 'local-path', node: 'n2' });
    expect(decideClaim(situation({ claim, classes: [wffc], volumes: [onN2, onN1] }))).toMatchObject({ kind: 'pending' });
    expect(decideClaim(situation({ claim, classes: [wffc], volumes: [onN2, onN1], selectedNode: n1 }))).toEqual({ kind: 'bind', volume: onN1 });
  });

  it('Immediate: provisions at once with an external provisioner; a node-local one cannot', () => {
    expect(decideClaim(situation({ claim: pvc('c', { cls: 'remote' }), classes: [immediateExternal] }))).toEqual({ kind: 'provision', storageClass: immediateExternal, selectedNode: undefined });
    const immediateLocal: StorageClass = { ...wffc, volumeBindingMode: 'Immediate' };
    expect(decideClaim(situation({ claim: pvc('c', { cls: 'local-path' }), classes: [immediateLocal] }))).toEqual({
      kind: 'pending',
      event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'provisioner "kubus.io/local-path" creates node-local volumes: storage class "local-path" must use volumeBindingMode WaitForFirstConsumer' },
    });
  });

  it('an unknown class and a no-provisioner class say so', () => {
    expect(decideClaim(situation({ claim: pvc('c', { cls: 'gone' }) }))).toEqual({
      kind: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "gone" not found' },
    });
    const manual: StorageClass = { metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner' };
    expect(decideClaim(situation({ claim: pvc('c', { cls: 'manual' }), classes: [manual] }))).toEqual({
      kind: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'no volume plugin matched name: kubernetes.io/no-provisioner' },
    });
  });

  it('a provisioned volume (pre-bound by uid) is bound next', () => {
    const claim = pvc('c', { cls: 'local-path' });
    const provisioned = pv('pvc-uid-c', { cls: 'local-path', phase: 'Pending', node: 'n1', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
    expect(decideClaim(situation({ claim, classes: [wffc], volumes: [provisioned], selectedNode: n1 }))).toEqual({ kind: 'bind', volume: provisioned });
  });
});

describe('decideClaim: spec.volumeName (pre-bound claims)', () => {
  it('binds to the named volume even when another would fit better; waits for a missing one', () => {
    const named = pv('named', { size: '5Gi', cls: 'manual' });
    const claim = pvc('c', { cls: 'manual', volumeName: 'named' });
    expect(decideClaim(situation({ claim, volumes: [pv('better', { cls: 'manual' }), named] }))).toEqual({ kind: 'bind', volume: named });
    expect(decideClaim(situation({ claim, volumes: [pv('better', { cls: 'manual' })] }))).toEqual({ kind: 'pending' });
  });

  it('refuses a named volume that is too small, of another class, or bound to someone else', () => {
    const claim = pvc('c', { size: '2Gi', cls: 'manual', volumeName: 'v' });
    expect(decideClaim(situation({ claim, volumes: [pv('v', { size: '1Gi', cls: 'manual' })] }))).toEqual({
      kind: 'pending', event: { type: 'Warning', reason: 'VolumeMismatch', message: 'Cannot bind to requested volume "v": requested PV is too small' },
    });
    expect(decideClaim(situation({ claim, volumes: [pv('v', { size: '2Gi', cls: 'other' })] }))).toEqual({
      kind: 'pending', event: { type: 'Warning', reason: 'VolumeMismatch', message: 'Cannot bind to requested volume "v": storageClassName does not match' },
    });
    expect(decideClaim(situation({ claim, volumes: [pv('v', { size: '2Gi', cls: 'manual', claimRef: { namespace: 'ns', name: 'x', uid: 'ux' } })] }))).toEqual({
      kind: 'pending', event: { type: 'Warning', reason: 'FailedBinding', message: 'volume "v" already bound to a different claim.' },
    });
  });
});

describe('decideClaim: bound claims', () => {
  const bound = { 'pv.kubernetes.io/bind-completed': 'yes' };
  it('stays bound (bind finishes any missing write) while the volume names it', () => {
    const volume = pv('v', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
    expect(decideClaim(situation({ claim: pvc('c', { volumeName: 'v', annotations: bound, phase: 'Bound' }), volumes: [volume] }))).toEqual({ kind: 'bind', volume });
  });

  it('is Lost when its volume is gone (to be confirmed), when it lost its volumeName, or when the volume names another claim', () => {
    expect(decideClaim(situation({ claim: pvc('c', { volumeName: 'v', annotations: bound, phase: 'Bound' }) }))).toEqual({
      kind: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' }, missingVolume: 'v',
    });
    expect(decideClaim(situation({ claim: pvc('c', { annotations: bound, phase: 'Bound' }) }))).toEqual({
      kind: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' },
    });
    const other = pv('v', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'x', uid: 'ux' } });
    expect(decideClaim(situation({ claim: pvc('c', { volumeName: 'v', annotations: bound, phase: 'Bound' }), volumes: [other] }))).toMatchObject({ kind: 'lost', event: { reason: 'ClaimMisbound' } });
    expect(decideClaim(situation({ claim: pvc('c', { volumeName: 'v', annotations: bound, phase: 'Lost' }) }))).toEqual({ kind: 'none' });
  });
});

describe('decideVolume', () => {
  const claimRef = { namespace: 'ns', name: 'c', uid: 'uid-c' };
  it('Available without a claim (or pre-bound by name only), Bound with its claim', () => {
    expect(decideVolume(pv('v', { phase: 'Pending' }), undefined)).toEqual({ kind: 'setPhase', phase: 'Available' });
    expect(decideVolume(pv('v', { phase: 'Available' }), undefined)).toEqual({ kind: 'none' });
    expect(decideVolume(pv('v', { phase: 'Pending', claimRef: { namespace: 'ns', name: 'c' } }), undefined)).toEqual({ kind: 'setPhase', phase: 'Available' });
    expect(decideVolume(pv('v', { phase: 'Available', claimRef }), pvc('c', { volumeName: 'v' }))).toEqual({ kind: 'setPhase', phase: 'Bound' });
  });

  it('lets the claim finish a half-written binding', () => {
    expect(decideVolume(pv('v', { claimRef }), pvc('c'))).toEqual({ kind: 'syncClaim', claimKey: 'ns/c' });
  });

  it('releases when the claim is gone or is a new claim of the same name, by the volume policy', () => {
    const retain = pv('v', { phase: 'Bound', claimRef });
    expect(decideVolume(retain, undefined)).toEqual({ kind: 'release', policy: 'Retain', claimKey: 'ns/c' });
    expect(decideVolume(retain, pvc('c', { uid: 'new-uid' }))).toEqual({ kind: 'release', policy: 'Retain', claimKey: 'ns/c' });
    const failed = pv('v', { phase: 'Failed', claimRef });
    expect(decideVolume(failed, undefined)).toEqual({ kind: 'none' });
  });

  it('a volume the claim did not take is unbound; a volume provisioned for it with Delete is released', () => {
    expect(decideVolume(pv('v', { claimRef }), pvc('c', { volumeName: 'w' }))).toEqual({ kind: 'unbind' });
    const provisioned = pv('v', { claimRef });
    provisioned.metadata = { ...provisioned.metadata, annotations: { 'pv.kubernetes.io/provisioned-by': 'kubus.io/local-path' } };
    provisioned.spec = { ...provisioned.spec, persistentVolumeReclaimPolicy: 'Delete' };
    expect(decideVolume(provisioned, pvc('c', { volumeName: 'w' }))).toEqual({ kind: 'release', policy: 'Delete', claimKey: 'ns/c' });
  });

  it('unbinding drops the whole claimRef the controller set, only the uid of one the user set', () => {
    const byController = pv('v', { claimRef });
    byController.metadata = { ...byController.metadata, annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } };
    expect(unboundVolume(byController).spec?.claimRef).toBeUndefined();
    expect(unboundVolume(byController).metadata?.annotations).toEqual({});
    expect(unboundVolume(pv('v', { claimRef })).spec?.claimRef).toEqual({ namespace: 'ns', name: 'c' });
  });
});

describe('binding writes', () => {
  it('writes claimRef with uid and bound-by-controller, then nothing more once done', () => {
    const claim = pvc('c');
    claim.metadata = { ...claim.metadata, resourceVersion: '42' };
    const written = volumeClaimRefWrite(pv('v'), claim);
    expect(written?.spec?.claimRef).toEqual({ kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'ns', name: 'c', uid: 'uid-c', resourceVersion: '42' });
    expect(written?.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(volumeClaimRefWrite(written ?? pv('x'), claim)).toBeUndefined();
    expect(volumePhaseWrite(pv('v', { phase: 'Bound' }), 'Bound')).toBeUndefined();
    expect(volumePhaseWrite(pv('v'), 'Bound')?.status).toEqual({ phase: 'Bound' });
  });

  it('a user pre-bound volume gets no bound-by-controller; a user pre-bound claim neither', () => {
    expect(volumeClaimRefWrite(pv('v', { claimRef: { namespace: 'ns', name: 'c' } }), pvc('c'))?.metadata?.annotations).toEqual({});
    const claim = claimVolumeNameWrite(pvc('c', { volumeName: 'v' }), pv('v'));
    expect(claim?.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes' });
    const chosen = claimVolumeNameWrite(pvc('c'), pv('v'));
    expect(chosen?.spec?.volumeName).toBe('v');
    expect(chosen?.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
  });

  it('the claim status carries the volume capacity and access modes', () => {
    const volume = pv('v', { size: '5Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany'] });
    const written = claimBoundStatusWrite(pvc('c', { size: '1Gi' }), volume);
    expect(written?.status).toEqual({ phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] });
    expect(claimBoundStatusWrite(written ?? pvc('x'), volume)).toBeUndefined();
  });
});

describe('local-path provisioner', () => {
  const claim = pvc('data', { size: '3Gi', cls: 'local-path', uid: '1234' });
  it('a hostPath volume in its own directory, only on the selected node, with the class policy', () => {
    const request = { claim, storageClass: { ...wffc, reclaimPolicy: 'Retain', parameters: { basePath: '/mnt/disks/' } }, selectedNode: 'n1' };
    const volume = provisionedVolume(request, 'kubus.io/local-path', localPathVolumeSpec(request));
    expect(volume).toEqual({
      apiVersion: 'v1', kind: 'PersistentVolume',
      metadata: { name: 'pvc-1234', annotations: { 'pv.kubernetes.io/provisioned-by': 'kubus.io/local-path' } },
      spec: {
        capacity: { storage: '3Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: '/mnt/disks/pvc-1234_ns_data', type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } },
        storageClassName: 'local-path', volumeMode: 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'ns', name: 'data', uid: '1234' },
      },
    });
  });

  it('defaults the base path and the Delete policy; refuses without a node', () => {
    const spec = localPathVolumeSpec({ claim, storageClass: { metadata: { name: 'lp' }, provisioner: 'kubus.io/local-path' }, selectedNode: 'n2' });
    expect(spec.hostPath?.path).toBe('/var/lib/kubus/local-path/pvc-1234_ns_data');
    expect(spec.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(() => localPathVolumeSpec({ claim, storageClass: wffc, selectedNode: undefined })).toThrow(/needs the node/);
  });

  it('the built-in class: default, WaitForFirstConsumer, Delete', () => {
    expect(localPathStorageClass()).toEqual({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubus.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
    });
  });
});
