/**
 * The write pipeline after authentication: authorize → mutating admission → validation. The
 * authorizer and the admission chain are pass-through stages today, placed here so RBAC and
 * webhooks (the next issue) slot in without touching the handlers. Defaulting is the built-in
 * mutating admission, validation the built-in validating one, as in Kubernetes.
 */
import { applyDefaults } from '../defaults.js';
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { KubeObject, UserInfo } from '../types.js';
import { validate } from '../validation.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface AuthorizationRequest {
  readonly user: UserInfo;
  readonly verb: Verb;
  readonly info: ResourceInfo;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
}

/** Pass-through until RBAC: every authenticated user may do everything (the admin token is `system:masters`). */
export function authorize(request: AuthorizationRequest): void {
  void request;
}

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
