/**
 * The RBAC rule resolver (Kubernetes' DefaultRuleResolver): which rules a user holds in a
 * namespace, from the ClusterRoleBindings (everywhere) and the RoleBindings of that namespace (to
 * a Role of the namespace or a ClusterRole, effective in the namespace only). The policy objects
 * come from a `PolicySource`: the watched caches in a server, a fixed list in unit tests.
 */
import type { KubeObject } from '../types.js';
import { rulesAllow, subjectMatches, type Attributes, type PolicyRule, type RoleRef, type Subject, type UserIdentity } from './rbac-rules.js';

export interface PolicySource {
  role(namespace: string, name: string): KubeObject | undefined;
  clusterRole(name: string): KubeObject | undefined;
  roleBindings(): Iterable<KubeObject>;
  clusterRoleBindings(): Iterable<KubeObject>;
}

/** Group whose members may do everything, without any binding (as in Kubernetes). */
export const superuserGroup = 'system:masters';

export function isSuperuser(user: UserIdentity): boolean {
  return user.groups.includes(superuserGroup);
}

export function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  const rules = role?.rules;
  return Array.isArray(rules) ? (rules as PolicyRule[]).filter((rule) => rule !== null && typeof rule === 'object' && Array.isArray(rule.verbs)) : [];
}

function subjectsOf(binding: KubeObject): Subject[] {
  const subjects = binding.subjects;
  return Array.isArray(subjects) ? (subjects as Subject[]).filter((s) => s !== null && typeof s === 'object') : [];
}

export function roleRefOf(binding: KubeObject): RoleRef | null {
  const ref = binding.roleRef as RoleRef | undefined;
  return ref !== undefined && ref !== null && typeof ref.name === 'string' && typeof ref.kind === 'string' ? ref : null;
}

/** The rules a binding's roleRef names; undefined when the role does not exist. */
export function referencedRole(source: PolicySource, ref: RoleRef, bindingNamespace: string | null): KubeObject | undefined {
  if (ref.kind === 'ClusterRole') return source.clusterRole(ref.name);
  if (ref.kind === 'Role' && bindingNamespace !== null) return source.role(bindingNamespace, ref.name);
  return undefined;
}

export class RbacPolicy {
  constructor(private readonly source: PolicySource) {}

  /** Rules the user holds for requests in `namespace` (null: cluster-scoped requests only get ClusterRoleBindings). */
  rulesFor(user: UserIdentity, namespace: string | null): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const binding of this.source.clusterRoleBindings()) {
      const ref = roleRefOf(binding);
      if (ref === null || ref.kind !== 'ClusterRole') continue;
      if (!subjectsOf(binding).some((s) => subjectMatches(s, user, null))) continue;
      rules.push(...rulesOf(this.source.clusterRole(ref.name)));
    }
    if (namespace === null || namespace === '') return rules;
    for (const binding of this.source.roleBindings()) {
      if (binding.metadata.namespace !== namespace) continue;
      const ref = roleRefOf(binding);
      if (ref === null) continue;
      if (!subjectsOf(binding).some((s) => subjectMatches(s, user, namespace))) continue;
      rules.push(...rulesOf(referencedRole(this.source, ref, namespace)));
    }
    return rules;
  }

  allows(user: UserIdentity, attributes: Attributes): boolean {
    if (isSuperuser(user)) return true;
    const namespace = attributes.resourceRequest ? attributes.namespace : null;
    return rulesAllow(this.rulesFor(user, namespace), attributes);
  }

  role(namespace: string, name: string): KubeObject | undefined {
    return this.source.role(namespace, name);
  }

  clusterRole(name: string): KubeObject | undefined {
    return this.source.clusterRole(name);
  }

  get policySource(): PolicySource {
    return this.source;
  }
}

/** A fixed set of policy objects (tests, and the bootstrap policy before the caches synced). */
export function staticPolicySource(objects: readonly KubeObject[]): PolicySource {
  const byKind = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
  return {
    role: (namespace, name) => byKind('Role').find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    clusterRole: (name) => byKind('ClusterRole').find((o) => o.metadata.name === name),
    roleBindings: () => byKind('RoleBinding'),
    clusterRoleBindings: () => byKind('ClusterRoleBinding'),
  };
}
