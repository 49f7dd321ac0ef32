/**
 * The volume manager's operating errors. The pod worker reports a `VolumeSetUpError` as the pod's
 * `FailedMount` (Kubernetes' Event reason for the same) and retries at its next sync; the message
 * says which volume and what to do.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

export class VolumeSetUpError extends KubusError {
  override readonly name = 'VolumeSetUpError';
  readonly code = 'volumeSetUp';
  /** The Event reason Kubernetes uses. */
  readonly reason = 'FailedMount';
  /** The API did not answer (retry; contents already on disk may be used meanwhile), as opposed to a definite refusal or absence. */
  readonly transient: boolean;
  constructor(message: string, readonly volume: string, options?: { readonly cause?: unknown; readonly transient?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.transient = options?.transient ?? false;
  }
  override fields(): ErrorFields {
    return { volume: this.volume, transient: this.transient };
  }
}

/** A volumeMount that names no volume of the pod, or a subPath leaving its volume. */
export class VolumeMountError extends KubusError {
  override readonly name = 'VolumeMountError';
  readonly code = 'volumeMount';
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string, readonly container: string, readonly mountPath: string) {
    super(message);
  }
  override fields(): ErrorFields {
    return { container: this.container, mountPath: this.mountPath };
  }
}
