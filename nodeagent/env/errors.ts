/**
 * The env part's operating errors. The pod worker reports `EnvConfigError` as the container's
 * waiting reason `CreateContainerConfigError` (Kubernetes' name for the same failure) and retries
 * at its next sync, as the kubelet does.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

export type EnvReferenceKind = 'configMap' | 'secret' | 'configMapKey' | 'secretKey' | 'fieldRef' | 'resourceFieldRef';

export class EnvConfigError extends KubusError {
  override readonly name = 'EnvConfigError';
  readonly code = 'createContainerConfigError';
  /** The waiting reason Kubernetes shows in the container status. */
  readonly reason = 'CreateContainerConfigError';
  constructor(
    message: string,
    readonly details: { readonly container: string; readonly kind: EnvReferenceKind; readonly name: string; readonly key?: string },
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }
  override fields(): ErrorFields {
    return { ...this.details };
  }
}
