/**
 * Persistent volumes: the binder controller, its pure decisions, the provisioner interface and the
 * built-in `kubus.io/local-path` provisioner.
 */
export { persistentVolumeBinder, persistentVolumeBinderSpec, type BinderOptions } from './persistent-volume-binder.js';
export { volumeAnnotations, annotationYes } from './annotations.js';
export { decideClaim, binderMessages, type ClaimAction, type ClaimSituation, type BinderEvent } from './claim-decision.js';
export { decideVolume, unboundVolume, type VolumeAction } from './volume-decision.js';
export { findBestVolume, volumeMismatch, isVolumeBoundToClaim, prebindMismatchMessage, type Mismatch, type MatchOptions } from './volume-matching.js';
export {
  volumeClaimRefWrite, volumePhaseWrite, claimVolumeNameWrite, claimBoundStatusWrite, claimPhaseWrite, claimClassWrite, claimProvisionerWrite,
} from './binding-writes.js';
export {
  defaultClass, isDefaultClass, claimClassName, volumeClassName, localPathStorageClass, localPathClassName, localPathProvisionerName, bindingModes, noProvisioner,
} from './storage-class.js';
export { provisionedVolume, provisionedVolumeName, type Provisioner, type ProvisionRequest } from './provisioner.js';
export { localPathProvisioner, localPathVolumeSpec, localPathDirectory, localPathDefaults } from './local-path-provisioner.js';
export { ProvisioningFailedError, BindingContendedError } from './errors.js';
export { volumeLimits } from './limits.js';
