/**
 * Dynamic provisioning: the interface a provisioner implements, and the PersistentVolume the binder
 * builds around the spec a provisioner answers. A provisioner knows its storage (where the data
 * lives, how it is reached); the binder owns what every provisioned volume shares: its name
 * `pvc-<claim uid>`, the claimRef pre-binding it to its claim, its class and the
 * `pv.kubernetes.io/provisioned-by` annotation that later routes its deletion back here.
 *
 * Decision: the name derives from the claim's uid, so provisioning twice (a retry after a lost
 * answer, a new leader repeating the last one's work) creates one volume: the second create is
 * AlreadyExists.
 */
import type { PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { volumeAnnotations } from './annotations.js';

export interface ProvisionRequest {
  readonly claim: PersistentVolumeClaim;
  readonly storageClass: StorageClass;
  /** The node of the claim's first consumer (WaitForFirstConsumer); undefined for Immediate classes. */
  readonly selectedNode: string | undefined;
}

export interface Provisioner {
  /** As StorageClasses name it in `provisioner`. */
  readonly name: string;
  /** Volumes live on one node's disk: provisioning needs the node of the claim's first consumer. */
  readonly nodeLocal: boolean;
  /** The spec of the new volume (its source, capacity, access modes, reclaim policy, node affinity). */
  provision(request: ProvisionRequest): Promise<PersistentVolumeSpec>;
  /** Frees the storage of a volume this provisioner created; the binder then deletes the object. */
  delete(volume: PersistentVolume): Promise<void>;
}

export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata?.uid ?? ''}`;
}

/** The PersistentVolume object for a provisioned spec, pre-bound to its claim. */
export function provisionedVolume(request: ProvisionRequest, provisioner: string, spec: PersistentVolumeSpec): PersistentVolume {
  const { claim, storageClass } = request;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: provisionedVolumeName(claim), annotations: { [volumeAnnotations.provisionedBy]: provisioner } },
    spec: {
      ...spec,
      storageClassName: storageClass.metadata?.name ?? '',
      volumeMode: spec.volumeMode ?? claim.spec?.volumeMode ?? 'Filesystem',
      ...(storageClass.mountOptions !== undefined ? { mountOptions: [...storageClass.mountOptions] } : {}),
      claimRef: {
        kind: 'PersistentVolumeClaim', apiVersion: 'v1',
        namespace: claim.metadata?.namespace ?? '', name: claim.metadata?.name ?? '', uid: claim.metadata?.uid ?? '',
      },
    },
  };
}
