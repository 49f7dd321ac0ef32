/**
 * RBAC's escalation prevention (Kubernetes' rbac/registry validation): creating or updating a Role
 * or ClusterRole whose rules the user does not hold is refused unless the user may `escalate` that
 * role; creating or updating a binding is refused unless the user holds every rule of the role it
 * names or may `bind` that role. It needs the object body, so it runs as admission, before `inner`.
 */
import type { Admission, AdmissionRequest } from '../http/admission.js';
import { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import { authzLimits } from './limits.js';
import { isSuperuser, referencedRole, roleRefOf, rulesOf, type RbacPolicy } from './rbac-policy.js';
import { covers, describeRule, type Attributes, type PolicyRule } from './rbac-rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';

function held(policy: RbacPolicy, request: AdmissionRequest, attributes: Attributes): boolean {
  return policy.allows(request.user, attributes);
}

function rbacAttributes(verb: 'escalate' | 'bind', resource: 'roles' | 'clusterroles', namespace: string | null, name: string): Attributes {
  return { resourceRequest: true, verb, apiGroup: rbacGroup, resource, subresource: null, namespace, name };
}

function refusal(request: AdmissionRequest, object: KubeObject, what: string, missing: readonly PolicyRule[]): ApiError {
  const name = object.metadata.name ?? request.name ?? '';
  const shown = missing.slice(0, authzLimits.missingRulesShownMax).map(describeRule).join(', ');
  const more = missing.length > authzLimits.missingRulesShownMax ? ` and ${missing.length - authzLimits.missingRulesShownMax} more` : '';
  return new ApiError(403, 'Forbidden',
    `${request.info.resource}.${rbacGroup} "${name}" is forbidden: user "${request.user.name}" (groups=${JSON.stringify(request.user.groups)}) `
    + `is attempting to grant RBAC permissions not currently held: ${what}${shown}${more}`,
    { name, group: rbacGroup, kind: request.info.resource });
}

/** Throws 403 when the write would grant more than the user holds; see the file comment. */
export function checkNoEscalation(policy: RbacPolicy, request: AdmissionRequest): void {
  const object = request.object;
  if (object === null || request.subresource !== null || request.info.group !== rbacGroup) return;
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return;
  if (isSuperuser(request.user)) return;
  const namespace = request.info.namespaced ? request.namespace : null;
  const name = object.metadata.name ?? request.name ?? '';
  switch (request.info.resource) {
    case 'roles':
    case 'clusterroles': {
      if (held(policy, request, rbacAttributes('escalate', request.info.resource, namespace, name))) return;
      const { covered, missing } = covers(policy.rulesFor(request.user, namespace), rulesOf(object));
      if (!covered) throw refusal(request, object, '', missing);
      return;
    }
    case 'rolebindings':
    case 'clusterrolebindings': {
      const ref = roleRefOf(object);
      if (ref === null) return; // validation reports the missing roleRef
      const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
      // As in Kubernetes, `bind` is checked in the binding's namespace (a RoleBinding may grant it).
      if (held(policy, request, rbacAttributes('bind', roleResource, namespace, ref.name))) return;
      const role = referencedRole(policy.policySource, ref, namespace);
      if (role === undefined) {
        throw new ApiError(403, 'Forbidden',
          `${request.info.resource}.${rbacGroup} "${name}" is forbidden: ${ref.kind} "${ref.name}" not found, and user "${request.user.name}" may not bind it; create the role first or get the bind verb on it`,
          { name, group: rbacGroup, kind: request.info.resource });
      }
      const { covered, missing } = covers(policy.rulesFor(request.user, namespace), rulesOf(role));
      if (!covered) throw refusal(request, object, `${ref.kind} "${ref.name}" holds `, missing);
      return;
    }
    default:
  }
}

export function withRbacEscalationCheck(inner: Admission, options: { readonly policy: RbacPolicy }): Admission {
  return {
    async admit(request) {
      checkNoEscalation(options.policy, request);
      return inner.admit(request);
    },
  };
}
