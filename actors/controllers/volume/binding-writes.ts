/**
 * The four writes of a binding, in Kubernetes' order: the volume's claimRef (with the claim's uid),
 * the volume's phase, the claim's volumeName and annotations, the claim's status. Each builder
 * answers the object to write, or undefined when that step is already done, so a binding
 * interrupted anywhere is finished by the next sync without writing anything twice.
 *
 * Decision: the volume is written first, with its resourceVersion as precondition. Two claims racing
 * for one volume both hold the same resourceVersion; the API lets exactly one write succeed, the
 * loser gets a Conflict, re-reads and looks for another volume. A claim therefore never points at a
 * volume whose claimRef names someone else.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { annotationYes, volumeAnnotations } from './annotations.js';

function sameRef(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  return ref?.uid === claim.metadata?.uid && ref?.name === claim.metadata?.name && ref?.namespace === claim.metadata?.namespace;
}

/** Step 1: the volume names the claim (uid included); `bound-by-controller` when the user had not named it. */
export function volumeClaimRefWrite(volume: PersistentVolume, claim: PersistentVolumeClaim): PersistentVolume | undefined {
  if (sameRef(volume, claim)) return undefined;
  const annotations = { ...(volume.metadata?.annotations ?? {}) };
  if (volume.spec?.claimRef === undefined) annotations[volumeAnnotations.boundByController] = annotationYes;
  return {
    ...volume,
    metadata: { ...volume.metadata, annotations },
    spec: {
      ...volume.spec,
      claimRef: {
        kind: 'PersistentVolumeClaim', apiVersion: 'v1',
        namespace: claim.metadata?.namespace ?? '', name: claim.metadata?.name ?? '', uid: claim.metadata?.uid ?? '',
        ...(claim.metadata?.resourceVersion !== undefined ? { resourceVersion: claim.metadata.resourceVersion } : {}),
      },
    },
  };
}

/** Step 2 (and any phase change): the volume's status with `phase`, or undefined when it has it. */
export function volumePhaseWrite(volume: PersistentVolume, phase: string, message?: string): PersistentVolume | undefined {
  if (volume.status?.phase === phase && (message === undefined || volume.status?.message === message)) return undefined;
  const status: NonNullable<PersistentVolume['status']> = { ...volume.status, phase };
  if (message === undefined) delete status.message;
  else status.message = message;
  return { ...volume, status };
}

/** Step 3: the claim names the volume; `bind-completed`, and `bound-by-controller` when the user had not named it. */
export function claimVolumeNameWrite(claim: PersistentVolumeClaim, volume: PersistentVolume): PersistentVolumeClaim | undefined {
  const name = volume.metadata?.name ?? '';
  const annotations = claim.metadata?.annotations ?? {};
  const namedByUser = claim.spec?.volumeName === name && annotations[volumeAnnotations.boundByController] === undefined;
  if (claim.spec?.volumeName === name && annotations[volumeAnnotations.bindCompleted] === annotationYes) return undefined;
  const next: Record<string, string> = { ...annotations, [volumeAnnotations.bindCompleted]: annotationYes };
  if (!namedByUser) next[volumeAnnotations.boundByController] = annotationYes;
  return { ...claim, metadata: { ...claim.metadata, annotations: next }, spec: { ...claim.spec, volumeName: name } };
}

/** Step 4: the claim's status Bound with the volume's capacity and access modes. */
export function claimBoundStatusWrite(claim: PersistentVolumeClaim, volume: PersistentVolume): PersistentVolumeClaim | undefined {
  const capacity = volume.spec?.capacity ?? {};
  const accessModes = volume.spec?.accessModes ?? [];
  const status = claim.status ?? {};
  const same = status.phase === 'Bound'
    && JSON.stringify(status.capacity ?? {}) === JSON.stringify(capacity)
    && JSON.stringify(status.accessModes ?? []) === JSON.stringify(accessModes);
  if (same) return undefined;
  return { ...claim, status: { ...status, phase: 'Bound', capacity: { ...capacity }, accessModes: [...accessModes] } };
}

/** A claim's status with `phase` (Pending, Lost), or undefined when it has it. */
export function claimPhaseWrite(claim: PersistentVolumeClaim, phase: 'Pending' | 'Lost'): PersistentVolumeClaim | undefined {
  if (claim.status?.phase === phase) return undefined;
  return { ...claim, status: { ...claim.status, phase } };
}

/** The claim with the class it defaults to written in (retroactive default StorageClass). */
export function claimClassWrite(claim: PersistentVolumeClaim, className: string): PersistentVolumeClaim {
  return { ...claim, spec: { ...claim.spec, storageClassName: className } };
}

/** The claim annotated with the provisioner asked for its volume (both spellings), or undefined when it is. */
export function claimProvisionerWrite(claim: PersistentVolumeClaim, provisioner: string): PersistentVolumeClaim | undefined {
  const annotations = claim.metadata?.annotations ?? {};
  if (annotations[volumeAnnotations.storageProvisioner] === provisioner && annotations[volumeAnnotations.storageProvisionerBeta] === provisioner) return undefined;
  return {
    ...claim,
    metadata: { ...claim.metadata, annotations: { ...annotations, [volumeAnnotations.storageProvisioner]: provisioner, [volumeAnnotations.storageProvisionerBeta]: provisioner } },
  };
}
