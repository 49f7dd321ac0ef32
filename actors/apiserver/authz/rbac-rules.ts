/**
 * RBAC's decision as pure functions (Kubernetes `rbac/v1` semantics, pkg/apis/rbac/v1/evaluation_helpers.go):
 * a PolicyRule allows a request when its verbs, apiGroups, resources (`pods/status` for a
 * subresource, `*` and `*\/status` wildcards) and resourceNames all match, or, for a request that
 * is not about a resource, when a nonResourceURL matches (exact, or a prefix ending in `*`).
 * `covers` is the escalation check: the owner's rules allow every atom the servant's rules grant.
 */

export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly apiGroup?: string;
}

export interface RoleRef {
  readonly apiGroup?: string;
  readonly kind: string;
  readonly name: string;
}

/** What a request asks, in RBAC's terms (Kubernetes' authorizer.Attributes). */
export type Attributes =
  | {
    readonly resourceRequest: true;
    readonly verb: string;
    readonly apiGroup: string;
    readonly resource: string;
    readonly subresource: string | null;
    readonly namespace: string | null;
    readonly name: string | null;
  }
  | { readonly resourceRequest: false; readonly verb: string; readonly path: string };

export interface UserIdentity {
  readonly name: string;
  readonly groups: readonly string[];
}

const all = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes(all) || rule.verbs.includes(verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  const groups = rule.apiGroups ?? [];
  return groups.includes(all) || groups.includes(group);
}

/** `resource` is the combined name (`pods` or `pods/status`), as Kubernetes compares it. */
export function resourceMatches(rule: PolicyRule, resource: string): boolean {
  const slash = resource.indexOf('/');
  const subresource = slash < 0 ? null : resource.slice(slash + 1);
  for (const candidate of rule.resources ?? []) {
    if (candidate === all || candidate === resource) return true;
    if (subresource !== null && candidate === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string | null): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== null && names.includes(name);
}

export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const candidate of rule.nonResourceURLs ?? []) {
    if (candidate === all || candidate === path) return true;
    if (candidate.endsWith(all) && path.startsWith(candidate.slice(0, -1))) return true;
  }
  return false;
}

export function combinedResource(resource: string, subresource: string | null): string {
  return subresource === null || subresource === '' ? resource : `${resource}/${subresource}`;
}

export function ruleAllows(rule: PolicyRule, attributes: Attributes): boolean {
  if (!verbMatches(rule, attributes.verb)) return false;
  if (!attributes.resourceRequest) return nonResourceUrlMatches(rule, attributes.path);
  return apiGroupMatches(rule, attributes.apiGroup)
    && resourceMatches(rule, combinedResource(attributes.resource, attributes.subresource))
    && resourceNameMatches(rule, attributes.name);
}

export function rulesAllow(rules: readonly PolicyRule[], attributes: Attributes): boolean {
  return rules.some((rule) => ruleAllows(rule, attributes));
}

/**
 * Whether a binding's subject is this user. A ServiceAccount is the user
 * `system:serviceaccount:<namespace>:<name>`; a subject without a namespace in a RoleBinding takes
 * the binding's (`bindingNamespace`), as Kubernetes' v1 defaulting did.
 */
export function subjectMatches(subject: Subject, user: UserIdentity, bindingNamespace: string | null): boolean {
  switch (subject.kind) {
    case 'User': return subject.name === user.name;
    case 'Group': return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace ?? bindingNamespace ?? '';
      return namespace !== '' && user.name === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default: return false;
  }
}

/** The groups Kubernetes' ServiceAccount authenticator gives `system:serviceaccount:<ns>:<name>`. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** One verb on one group/resource/name, or one verb on one URL: what a rule grants, unit by unit. */
function atoms(rule: PolicyRule): Attributes[] {
  const out: Attributes[] = [];
  for (const verb of rule.verbs) {
    for (const path of rule.nonResourceURLs ?? []) out.push({ resourceRequest: false, verb, path });
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        for (const name of names.length === 0 ? [null] : names) {
          out.push({ resourceRequest: true, verb, apiGroup, resource, subresource: null, namespace: null, name });
        }
      }
    }
  }
  return out;
}

/**
 * Whether `owner` allows everything `servant` grants. Wildcards in the servant are literal: a
 * servant `*` verb is covered only by an owner `*` (`verbMatches` gives exactly that), and a rule
 * without resourceNames is covered only by a rule without resourceNames.
 */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const atom of atoms(rule)) {
      const held = owner.some((candidate) => atomCovered(candidate, atom));
      if (!held) missing.push(atomRule(atom));
    }
  }
  return { covered: missing.length === 0, missing };
}

function atomCovered(owner: PolicyRule, atom: Attributes): boolean {
  if (!verbMatches(owner, atom.verb)) return false;
  if (!atom.resourceRequest) return nonResourceUrlMatches(owner, atom.path);
  if (!apiGroupMatches(owner, atom.apiGroup) || !resourceMatches(owner, atom.resource)) return false;
  if (atom.name === null) return (owner.resourceNames ?? []).length === 0;
  return resourceNameMatches(owner, atom.name);
}

function atomRule(atom: Attributes): PolicyRule {
  if (!atom.resourceRequest) return { verbs: [atom.verb], nonResourceURLs: [atom.path] };
  return {
    verbs: [atom.verb], apiGroups: [atom.apiGroup], resources: [atom.resource],
    ...(atom.name !== null ? { resourceNames: [atom.name] } : {}),
  };
}

/** A rule as Kubernetes prints it in escalation refusals. */
export function describeRule(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups !== undefined) parts.push(`APIGroups:${JSON.stringify(rule.apiGroups)}`);
  if (rule.resources !== undefined) parts.push(`Resources:${JSON.stringify(rule.resources)}`);
  if (rule.resourceNames !== undefined) parts.push(`ResourceNames:${JSON.stringify(rule.resourceNames)}`);
  if (rule.nonResourceURLs !== undefined) parts.push(`NonResourceURLs:${JSON.stringify(rule.nonResourceURLs)}`);
  parts.push(`Verbs:${JSON.stringify(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
