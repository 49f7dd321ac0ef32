/**
 * What the binder does with one claim, as Kubernetes' syncClaim decides it, from the objects alone:
 * give it the default class, bind it to a volume (or finish a binding half written), wait for its
 * first consumer, ask a provisioner for a volume, leave it Pending with the reason, or mark it Lost.
 * Pure, so the rules are tested case by case and the reconcile glue only performs the answer.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { SelectableNode } from '../../objects/index.js';
import { volumeAnnotations } from './annotations.js';
import { claimClassName, defaultClass, isWaitForFirstConsumer, noProvisioner } from './storage-class.js';
import { findBestVolume, isVolumeBoundToClaim, prebindMismatchMessage } from './volume-matching.js';

export interface BinderEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export type ClaimAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'setDefaultClass'; readonly className: string }
  | { readonly kind: 'bind'; readonly volume: PersistentVolume }
  | { readonly kind: 'pending'; readonly event?: BinderEvent }
  | { readonly kind: 'provision'; readonly storageClass: StorageClass; readonly selectedNode: string | undefined }
  /** `missingVolume`: the loss rests on the volume's absence, which the glue confirms with the API first. */
  | { readonly kind: 'lost'; readonly event: BinderEvent; readonly missingVolume?: string };

export interface ClaimSituation {
  readonly claim: PersistentVolumeClaim;
  readonly volumes: readonly PersistentVolume[];
  readonly classes: readonly StorageClass[];
  /** The node `volume.kubernetes.io/selected-node` names, with its labels when the binder knows the Node. */
  readonly selectedNode?: SelectableNode | undefined;
  /** Provisioners whose volumes live on one node's disk: they need the first consumer's node. */
  readonly nodeLocalProvisioners: ReadonlySet<string>;
}

export const binderMessages = {
  waitForFirstConsumer: 'waiting for first consumer to be created before binding',
  noVolumeNoClass: 'no persistent volumes available for this claim and no storage class is set',
  lostReference: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
  lostVolume: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
  misbound: 'Two claims are bound to the same volume, this one is bound incorrectly',
} as const;

export function decideClaim(situation: ClaimSituation): ClaimAction {
  const { claim } = situation;
  if (claim.metadata?.deletionTimestamp !== undefined) return { kind: 'none' };
  if (claim.metadata?.annotations?.[volumeAnnotations.bindCompleted] === undefined) return decideUnboundClaim(situation);
  return decideBoundClaim(situation);
}

function decideUnboundClaim(situation: ClaimSituation): ClaimAction {
  const { claim } = situation;
  const volumeName = claim.spec?.volumeName ?? '';
  if (claim.spec?.storageClassName === undefined && volumeName === '') {
    const fallback = defaultClass(situation.classes);
    if (fallback?.metadata?.name !== undefined) return { kind: 'setDefaultClass', className: fallback.metadata.name };
  }
  if (volumeName !== '') return decidePrebound(situation, volumeName);
  const className = claimClassName(claim);
  const storageClass = className === '' ? undefined : situation.classes.find((c) => c.metadata?.name === className);
  const delayBinding = isWaitForFirstConsumer(storageClass);
  const best = findBestVolume(claim, situation.volumes, { node: situation.selectedNode, delayBinding });
  if (best !== undefined) return { kind: 'bind', volume: best };
  if (delayBinding && situation.selectedNode === undefined) {
    return { kind: 'pending', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: binderMessages.waitForFirstConsumer } };
  }
  if (className === '') return { kind: 'pending', event: { type: 'Normal', reason: 'FailedBinding', message: binderMessages.noVolumeNoClass } };
  if (storageClass === undefined) {
    return { kind: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` } };
  }
  if (storageClass.provisioner === noProvisioner) {
    // Kubernetes finds no plugin by that name and says so; only pre-created volumes can serve the claim.
    return { kind: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `no volume plugin matched name: ${noProvisioner}` } };
  }
  if (situation.nodeLocalProvisioners.has(storageClass.provisioner) && situation.selectedNode === undefined) {
    return {
      kind: 'pending',
      event: { type: 'Warning', reason: 'ProvisioningFailed', message: `provisioner "${storageClass.provisioner}" creates node-local volumes: storage class "${className}" must use volumeBindingMode WaitForFirstConsumer` },
    };
  }
  return { kind: 'provision', storageClass, selectedNode: situation.selectedNode?.name };
}

/** The user named the volume in `spec.volumeName`. */
function decidePrebound(situation: ClaimSituation, volumeName: string): ClaimAction {
  const { claim } = situation;
  const volume = situation.volumes.find((v) => v.metadata?.name === volumeName);
  // Kubernetes waits silently for a named volume that does not exist yet.
  if (volume === undefined) return { kind: 'pending' };
  if (volume.spec?.claimRef === undefined) {
    const mismatch = prebindMismatchMessage(volume, claim);
    if (mismatch !== undefined) return { kind: 'pending', event: { type: 'Warning', reason: 'VolumeMismatch', message: `Cannot bind to requested volume "${volumeName}": ${mismatch}` } };
    return { kind: 'bind', volume };
  }
  if (isVolumeBoundToClaim(volume, claim)) return { kind: 'bind', volume };
  return { kind: 'pending', event: { type: 'Warning', reason: 'FailedBinding', message: `volume "${volumeName}" already bound to a different claim.` } };
}

/** Binding was completed once: keep it whole, or report the claim Lost. */
function decideBoundClaim(situation: ClaimSituation): ClaimAction {
  const { claim } = situation;
  const alreadyLost = claim.status?.phase === 'Lost';
  const lost = (reason: string, message: string, missingVolume?: string): ClaimAction => {
    if (alreadyLost) return { kind: 'none' };
    return { kind: 'lost', event: { type: 'Warning', reason, message }, ...(missingVolume !== undefined ? { missingVolume } : {}) };
  };
  const volumeName = claim.spec?.volumeName ?? '';
  if (volumeName === '') return lost('ClaimLost', binderMessages.lostReference);
  const volume = situation.volumes.find((v) => v.metadata?.name === volumeName);
  if (volume === undefined) return lost('ClaimLost', binderMessages.lostVolume, volumeName);
  const ref = volume.spec?.claimRef;
  if (ref === undefined || isVolumeBoundToClaim(volume, claim)) return { kind: 'bind', volume };
  return lost('ClaimMisbound', binderMessages.misbound);
}
