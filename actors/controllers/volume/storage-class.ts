/**
 * StorageClasses as the binder reads them: which class a claim or a volume belongs to, which class
 * is the default, and the built-in default class `local-path` kubus creates at start.
 *
 * Decision: a claim without `storageClassName` belongs to the default class, and the binder writes
 * that class onto the still-unbound claim, as Kubernetes' retroactive default StorageClass
 * assignment (1.28) does, so the claim keeps its class when the default later changes.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { volumeAnnotations } from './annotations.js';

export const bindingModes = { immediate: 'Immediate', waitForFirstConsumer: 'WaitForFirstConsumer' } as const;

/** Kubernetes' name for "this class has no dynamic provisioner; bind pre-created volumes only". */
export const noProvisioner = 'kubernetes.io/no-provisioner';

export function isDefaultClass(storageClass: StorageClass): boolean {
  const annotations = storageClass.metadata?.annotations ?? {};
  return annotations[volumeAnnotations.isDefaultClass] === 'true' || annotations[volumeAnnotations.isDefaultClassBeta] === 'true';
}

/**
 * The default class; with several, the newest (then the first by name), as Kubernetes picks since
 * 1.26 so adding a new default takes effect without first removing the old one's annotation.
 */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((c) => isDefaultClass(c) && c.metadata?.deletionTimestamp === undefined);
  defaults.sort((a, b) => {
    const byAge = (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '');
    return byAge !== 0 ? byAge : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
  return defaults[0];
}

/** The class a claim asks for; `''` is "no class" (only class-less volumes). */
export function claimClassName(claim: PersistentVolumeClaim): string {
  return claim.spec?.storageClassName ?? '';
}

/** The class a volume belongs to: `spec.storageClassName`, else the beta annotation, else none. */
export function volumeClassName(volume: PersistentVolume): string {
  return volume.spec?.storageClassName ?? volume.metadata?.annotations?.[volumeAnnotations.volumeClassBeta] ?? '';
}

export function isWaitForFirstConsumer(storageClass: StorageClass | undefined): boolean {
  return storageClass?.volumeBindingMode === bindingModes.waitForFirstConsumer;
}

export const localPathProvisionerName = 'kubus.io/local-path';
export const localPathClassName = 'local-path';

/** The class every cluster starts with: node-local volumes, created on the node of their first pod. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: localPathClassName, annotations: { [volumeAnnotations.isDefaultClass]: 'true' } },
    provisioner: localPathProvisionerName,
    reclaimPolicy: 'Delete',
    volumeBindingMode: bindingModes.waitForFirstConsumer,
  };
}
