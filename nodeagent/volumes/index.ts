/** The node agent's volume manager: emptyDir, configMap, secret, downwardAPI, projected (with tokens), hostPath and PVC volumes. */
export { createVolumeManager, type VolumeManagerOptions } from './volume-manager.js';
export { VolumeSetUpError, VolumeMountError } from './errors.js';
export { writeAtomically, validPayloadPath, type FileProjection, type Payload } from './atomic-writer.js';
export { prepareHostPath } from './host-path.js';
export { claimVolume, PathRecords, localPathProvisioner } from './local-path.js';
export { createTokenManager, type TokenManager, type TokenSpec } from './token-manager.js';
export { volumePayload } from './payloads.js';
export { directoryBytes } from './empty-dir.js';
export { volumeLimits, memoryMediumRoot } from './limits.js';
