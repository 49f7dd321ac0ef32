/**
 * Operating errors of the `cri` runtime beyond the runtime-wide ones (../errors.ts).
 */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

/** A CRI call failed: which call, containerd's gRPC status and its message (what to read in containerd's log). */
export class CriCallError extends KubusError {
  override readonly name = 'CriCallError';
  readonly code = 'criCall';
  constructor(readonly method: string, readonly grpcCode: number, readonly details: string, readonly socket: string) {
    super(`CRI ${method} on ${socket} failed (gRPC status ${grpcCode}): ${details}`);
  }
  override fields(): ErrorFields {
    return { method: this.method, grpcCode: this.grpcCode, details: this.details, socket: this.socket };
  }
  get notFound(): boolean {
    return this.grpcCode === 5;
  }
}

/** The private containerd could not be configured or started; names its directory and log file. */
export class ContainerdStartError extends KubusError {
  override readonly name = 'ContainerdStartError';
  readonly code = 'containerdStart';
  constructor(readonly directory: string, readonly logFile: string, readonly detail: string) {
    super(`could not start a private containerd in ${directory}: ${detail} (its log: ${logFile})`);
  }
  override fields(): ErrorFields {
    return { directory: this.directory, logFile: this.logFile, detail: this.detail };
  }
}

/** Importing a local image tar into containerd (`ctr images import`) failed. */
export class ImageImportError extends KubusError {
  override readonly name = 'ImageImportError';
  readonly code = 'imageImport';
  constructor(readonly tar: string, readonly detail: string) {
    super(`could not import image archive ${tar} into containerd: ${detail}`);
  }
  override fields(): ErrorFields {
    return { tar: this.tar, detail: this.detail };
  }
}

/** An image a container still uses cannot be removed (containerd itself would allow it). */
export class ImageInUseError extends KubusError {
  override readonly name = 'ImageInUseError';
  readonly code = 'imageInUse';
  constructor(readonly imageId: string, readonly containerId: string) {
    super(`image ${imageId} is used by container ${containerId}; remove the container first`);
  }
  override fields(): ErrorFields {
    return { imageId: this.imageId, containerId: this.containerId };
  }
}
