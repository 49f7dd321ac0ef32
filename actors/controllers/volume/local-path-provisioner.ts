/**
 * The built-in `kubus.io/local-path` provisioner: a hostPath volume in a directory of its own on
 * the node where the claim's first pod was scheduled, reachable only from that node.
 *
 * Decision: the control plane only describes the volume. The directory
 * `<basePath>/pvc-<uid>_<namespace>_<name>` is created (and removed after deletion) by the node
 * agent of that node, which arrives with the next issue; until then a provisioned volume is an
 * API object whose directory nobody has made. `delete` therefore has no storage to free here.
 */
import type { PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import { localPathProvisionerName } from './storage-class.js';
import { ProvisioningFailedError } from './errors.js';
import type { ProvisionRequest, Provisioner } from './provisioner.js';

export const localPathDefaults = {
  /** Where volumes live on a node unless the class's `parameters.basePath` says otherwise. */
  basePath: '/var/lib/kubus/local-path',
} as const;

/** The directory of a claim's volume on its node. */
export function localPathDirectory(request: ProvisionRequest): string {
  const base = (request.storageClass.parameters?.['basePath'] ?? localPathDefaults.basePath).replace(/\/+$/, '');
  const { uid, namespace, name } = request.claim.metadata ?? {};
  return `${base}/pvc-${uid ?? ''}_${namespace ?? ''}_${name ?? ''}`;
}

/** The volume spec for a claim on its selected node; pure, so tests check it field by field. */
export function localPathVolumeSpec(request: ProvisionRequest): PersistentVolumeSpec {
  const node = request.selectedNode;
  if (node === undefined || node === '') {
    throw new ProvisioningFailedError(`${localPathProvisionerName} needs the node of the claim's first consumer (volumeBindingMode WaitForFirstConsumer)`, { provisioner: localPathProvisionerName });
  }
  const storage = request.claim.spec?.resources?.requests?.['storage'];
  if (storage === undefined) throw new ProvisioningFailedError('the claim requests no storage', { provisioner: localPathProvisionerName });
  return {
    capacity: { storage },
    accessModes: [...(request.claim.spec?.accessModes ?? ['ReadWriteOnce'])],
    persistentVolumeReclaimPolicy: request.storageClass.reclaimPolicy ?? 'Delete',
    hostPath: { path: localPathDirectory(request), type: 'DirectoryOrCreate' },
    nodeAffinity: {
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
    },
  };
}

export function localPathProvisioner(): Provisioner {
  return {
    name: localPathProvisionerName,
    nodeLocal: true,
    provision: (request) => Promise.resolve(localPathVolumeSpec(request)),
    // The node agent removes the directory once the volume object is gone (see the Decision above).
    delete: () => Promise.resolve(),
  };
}
