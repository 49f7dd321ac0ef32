/**
 * What the binder does with one volume, as Kubernetes' syncVolume decides it: its phase follows its
 * claim (Available without one, Bound with it, Released once the claim is gone), a volume the
 * controller bound to a claim that went elsewhere is unbound, and a Released volume is reclaimed by
 * its policy. Pure; the glue confirms a claim's absence with the API before acting on it.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { volumeAnnotations } from './annotations.js';

export type VolumePhase = 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed';

export type VolumeAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'setPhase'; readonly phase: 'Available' | 'Bound' }
  /** The binding is half written (volume side only): the claim's sync finishes it. */
  | { readonly kind: 'syncClaim'; readonly claimKey: string }
  /** The claim is bound to another volume: drop this binding (all of it if the controller made it). */
  | { readonly kind: 'unbind' }
  /** The claim is gone (the glue confirms with the API first): Released, then reclaimed by policy. */
  | { readonly kind: 'release'; readonly policy: string; readonly claimKey: string };

export function decideVolume(volume: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumeAction {
  if (volume.metadata?.deletionTimestamp !== undefined) return { kind: 'none' };
  const phase = volume.status?.phase;
  const ref = volume.spec?.claimRef;
  // Unclaimed, or pre-bound by the user to a claim by name only: waiting for a claim.
  if (ref === undefined || ref.uid === undefined || ref.uid === '') return phase === 'Available' ? { kind: 'none' } : { kind: 'setPhase', phase: 'Available' };
  const claimKey = `${ref.namespace ?? ''}/${ref.name ?? ''}`;
  // A claim of that name with another uid is a new claim: the one this volume served is gone.
  if (claim === undefined || claim.metadata?.uid !== ref.uid) {
    if (phase === 'Failed') return { kind: 'none' };
    return { kind: 'release', policy: volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain', claimKey };
  }
  const claimVolume = claim.spec?.volumeName ?? '';
  if (claimVolume === '') return { kind: 'syncClaim', claimKey };
  if (claimVolume === volume.metadata?.name) return phase === 'Bound' ? { kind: 'none' } : { kind: 'setPhase', phase: 'Bound' };
  // The claim went to another volume. A volume provisioned for it is not needed any more.
  const provisioned = volume.metadata?.annotations?.[volumeAnnotations.provisionedBy] !== undefined;
  if (provisioned && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') return { kind: 'release', policy: 'Delete', claimKey };
  return { kind: 'unbind' };
}

/**
 * The volume with its binding dropped: all of it when the controller chose the claim; only the uid
 * when the user named the claim, so the volume stays reserved for a claim of that name.
 */
export function unboundVolume(volume: PersistentVolume): PersistentVolume {
  const annotations = { ...(volume.metadata?.annotations ?? {}) };
  const byController = annotations[volumeAnnotations.boundByController] !== undefined;
  delete annotations[volumeAnnotations.boundByController];
  const spec = { ...volume.spec };
  if (byController || spec.claimRef === undefined) delete spec.claimRef;
  else {
    const { uid: _uid, resourceVersion: _rv, ...ref } = spec.claimRef;
    spec.claimRef = ref;
  }
  return { ...volume, metadata: { ...volume.metadata, annotations }, spec };
}
