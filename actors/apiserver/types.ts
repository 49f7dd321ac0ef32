/** The shapes of Kubernetes objects as the API server handles them: plain JSON objects. */
export type { OwnerReference, ObjectMeta, KubeObject } from '../objects/meta.js';

/** The authenticated caller. */
export interface UserInfo {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
}

/** One field problem, as in a Status's `details.causes`. */
export interface FieldCause {
  readonly reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTypeInvalid';
  readonly message: string;
  /** The field path, e.g. `metadata.name` or `spec.containers[0].image`. */
  readonly field: string;
}
