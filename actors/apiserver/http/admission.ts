/**
 * The write pipeline after authentication: authorize → mutating admission → validation. The
 * server context carries an `Authorizer` and an `Admission`; the defaults here allow every
 * authenticated user and run the built-in defaulting (mutating) and validation (validating)
 * stages, as in Kubernetes. RBAC, the Node authorizer and admission plugins/webhooks replace them.
 */
import { applyDefaults } from '../defaults.js';
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { KubeObject, UserInfo } from '../types.js';
import type { WriteGuard } from './objects-port.js';
import { validate } from '../validation.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'impersonate';

export interface AuthorizationRequest {
  readonly user: UserInfo;
  readonly verb: Verb;
  readonly info: ResourceInfo;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
  /** The request's `fieldSelector` (the Node authorizer lets a node list only its own pods). */
  readonly fieldSelector?: string | undefined;
}

export interface Authorizer {
  /** Resolves when allowed; throws ApiError 403 Forbidden naming the user, verb and resource otherwise. */
  authorize(request: AuthorizationRequest): Promise<void>;
}

/** Every authenticated user may do everything: the default until an RBAC authorizer is configured. */
export const allowAll: Authorizer = { authorize: async () => undefined };

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  readonly info: ResourceInfo;
  readonly operation: AdmissionOperation;
  readonly user: UserInfo;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
  /** The object to write (null for DELETE). */
  readonly object: KubeObject | null;
  /** The stored object (null for CREATE). */
  readonly old: KubeObject | null;
  readonly dryRun: boolean;
  /**
   * Where warnings for the client go (webhook `warnings`); the HTTP front turns each into a
   * `Warning: 299 - "<text>"` header, sent with the answer whether the request is allowed or not.
   */
  readonly warn?: (text: string) => void;
  /** Where a plugin puts a condition on the write (ResourceQuota: the quota object's revision). */
  readonly guard?: (guard: WriteGuard) => void;
}

export interface Admission {
  /** Mutating then validating admission: the object to store, or a thrown ApiError (403/422/...). */
  admit(request: AdmissionRequest): Promise<KubeObject | null>;
}

/** Whether the kind's built-in stages apply: the object is the resource itself (main or `status`), not an Eviction or a Binding. */
export const runsBuiltInStages = (subresource: string | null): boolean => subresource === null || subresource === 'status';

/** The built-in stages only: defaulting, then validation (the plugin chain is in ../admission/). */
export const builtInAdmission: Admission = {
  admit: async (request) => (request.object === null || !runsBuiltInStages(request.subresource) ? request.object : admit(request.info, request.object, request.old)),
};

/** Refuses verbs the resource does not offer (405), as discovery advertises them. */
export function checkVerb(info: ResourceInfo, verb: Verb, subresource: string | null): void {
  if (subresource !== null) return;
  if (!info.verbs.includes(verb)) {
    throw apiErrors.methodNotAllowed(`${verb} is not supported on resource ${info.group === '' ? info.resource : `${info.resource}.${info.group}`}`);
  }
}

/**
 * Mutating admission then validation for a create (`old` null) or an update. Returns the object
 * to store; throws 422 Invalid with the field causes.
 */
export function admit(info: ResourceInfo, object: KubeObject, old: KubeObject | null): KubeObject {
  const defaulted = applyDefaults(info, object);
  const causes = validate(info, defaulted, old);
  if (causes.length > 0) {
    const name = typeof defaulted.metadata?.name === 'string' ? defaulted.metadata.name : (defaulted.metadata?.generateName ?? '');
    throw apiErrors.invalid(info.kind, info.group, name, causes);
  }
  return defaulted;
}
