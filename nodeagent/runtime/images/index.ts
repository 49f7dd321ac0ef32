/**
 * Local images without a registry: `localImageRefs` names them, `buildLocalImage` /
 * `describeLocalImage(s)` make their docker-archive tars (cached by content) for the runtimes
 * to import (`ctr -n k8s.io images import`, `docker load`).
 */
export { localImageRefs, localImageNames, buildLocalImage, describeLocalImage, describeLocalImages, localImageNameOf, type LocalImage, type LocalImageName, type BuildInputs } from './build.js';
export { ImageBuildError, ImageBuildToolError } from './errors.js';
export { localImageLimits } from './limits.js';
export { buildDockerArchive, splitReference, hostImageArchitecture, type DockerArchive, type ImageSpec } from './docker-archive.js';
export { writeTar, type TarEntry } from './tar-writer.js';
export { elfLinkage, parseAppletList, busyboxCandidates } from './busybox.js';
export { pauseSource } from './pause.js';
