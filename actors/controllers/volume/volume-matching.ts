/**
 * Which PersistentVolume may serve a claim, as Kubernetes' FindMatchingVolume decides: a volume
 * pre-bound to the claim wins; otherwise the smallest Available, unclaimed volume of the claim's
 * class whose capacity, access modes, volume mode, labels (the claim's selector) and node affinity
 * (when a node is chosen) fit. Pure: the binder and its tests call it with plain objects.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { nodeSelectorMatches, parseQuantity, selectorMatches, type SelectableNode } from '../../objects/index.js';
import { claimClassName, volumeClassName } from './storage-class.js';

/** Why a volume cannot serve a claim (tests and logs name the first failed check). */
export type Mismatch =
  | 'capacity' | 'volumeMode' | 'deleting' | 'nodeAffinity' | 'notAvailable' | 'claimed' | 'selector' | 'storageClass' | 'accessModes';

export function claimRequestBytes(claim: PersistentVolumeClaim): number {
  return parseQuantity(claim.spec?.resources?.requests?.['storage']) ?? 0;
}

export function volumeCapacityBytes(volume: PersistentVolume): number {
  return parseQuantity(volume.spec?.capacity?.['storage']) ?? 0;
}

/** `Filesystem` unless set: the API defaults both, but unvalidated input must compare the same way. */
function volumeModeOf(spec: { readonly volumeMode?: string | undefined } | undefined): string {
  return spec?.volumeMode ?? 'Filesystem';
}

/** Is the volume's claimRef this claim (by namespace and name, and uid when the ref carries one)? */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (ref === undefined) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return ref.uid === undefined || ref.uid === '' || ref.uid === claim.metadata?.uid;
}

/** Every mode the claim asks for is among the volume's. */
export function accessModesSatisfied(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const offered = volume.spec?.accessModes ?? [];
  return (claim.spec?.accessModes ?? []).every((mode) => offered.includes(mode));
}

/** A claim without a selector takes any labels; with one, Kubernetes' structured selector rules. */
function selectorAllows(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  const selector = claim.spec?.selector;
  if (selector === undefined) return true;
  return selectorMatches(selector, volume.metadata?.labels);
}

/** A volume without node affinity is reachable from every node. */
export function volumeReachableFrom(volume: PersistentVolume, node: SelectableNode): boolean {
  const required = volume.spec?.nodeAffinity?.required;
  return required === undefined || nodeSelectorMatches(required, node);
}

export interface MatchOptions {
  /** The node the scheduler chose (WaitForFirstConsumer); volumes must be reachable from it. */
  readonly node?: SelectableNode | undefined;
  /** The claim's class binds late: without a node only volumes pre-bound to the claim qualify. */
  readonly delayBinding?: boolean;
}

/**
 * The first reason `volume` cannot serve `claim`, or undefined when it can. The checks run in
 * Kubernetes' order; a volume pre-bound to the claim skips the class, selector, phase and access
 * mode checks (the user named it) but still needs room, the claim's volume mode and the node.
 */
export function volumeMismatch(volume: PersistentVolume, claim: PersistentVolumeClaim, options: MatchOptions = {}): Mismatch | undefined {
  if (volumeCapacityBytes(volume) < claimRequestBytes(claim)) return 'capacity';
  if (volumeModeOf(volume.spec) !== volumeModeOf(claim.spec)) return 'volumeMode';
  if (volume.metadata?.deletionTimestamp !== undefined) return 'deleting';
  const reachable = options.node === undefined || volumeReachableFrom(volume, options.node);
  if (isVolumeBoundToClaim(volume, claim)) return reachable ? undefined : 'nodeAffinity';
  if (options.node === undefined && options.delayBinding === true) return 'nodeAffinity';
  if (volume.spec?.claimRef !== undefined) return 'claimed';
  if (volume.status?.phase !== 'Available') return 'notAvailable';
  if (!selectorAllows(claim, volume)) return 'selector';
  if (volumeClassName(volume) !== claimClassName(claim)) return 'storageClass';
  if (!reachable) return 'nodeAffinity';
  if (!accessModesSatisfied(volume, claim)) return 'accessModes';
  return undefined;
}

/**
 * The volume the claim should bind to: one pre-bound to it if any, else the smallest that fits,
 * among those the fewest access modes beyond the claim's (Kubernetes groups volumes by their mode
 * set and tries the narrowest first); ties by name so every member decides the same.
 */
export function findBestVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], options: MatchOptions = {}): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const volume of volumes) {
    if (volumeMismatch(volume, claim, options) !== undefined) continue;
    if (isVolumeBoundToClaim(volume, claim)) return volume;
    if (best === undefined || compareCandidates(volume, best) < 0) best = volume;
  }
  return best;
}

function compareCandidates(a: PersistentVolume, b: PersistentVolume): number {
  const modes = (a.spec?.accessModes?.length ?? 0) - (b.spec?.accessModes?.length ?? 0);
  if (modes !== 0) return modes;
  const size = volumeCapacityBytes(a) - volumeCapacityBytes(b);
  if (size !== 0) return size;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/**
 * What Kubernetes checks before binding a claim to the volume its `spec.volumeName` names
 * (checkVolumeSatisfyClaim): room, class and volume mode; the message is the event's.
 */
export function prebindMismatchMessage(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volumeCapacityBytes(volume) < claimRequestBytes(claim)) return 'requested PV is too small';
  if (volumeClassName(volume) !== claimClassName(claim)) return 'storageClassName does not match';
  if (volumeModeOf(volume.spec) !== volumeModeOf(claim.spec)) return 'incompatible volumeMode';
  return undefined;
}
