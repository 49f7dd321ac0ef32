/**
 * The built-in resources the API server serves: the table discovery, routing, storage, tables and
 * validation all read. Names, short names, categories, verbs and subresources match Kubernetes 1.32
 * so that kubectl's discovery-driven behaviour (`kubectl get all`, `po`, `deploy`) works unchanged.
 */

import { metricsResources } from '../metrics/resources.js';

export interface ResourceInfo {
  /** API group; `''` is the core (legacy `/api`) group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case: the URL segment and the storage prefix. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Subresource names (`status`, `scale`, `binding`, `eviction`, `log`). */
  readonly subresources: readonly string[];
}

/** The verbs of an ordinary read-write resource, in discovery order. */
const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

interface Spec {
  readonly group: string;
  readonly versions: readonly string[];
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly subresources?: readonly string[];
  readonly verbs?: readonly string[];
}

const specs: readonly Spec[] = [
  { group: '', versions: ['v1'], resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: '', versions: ['v1'], resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] },
  { group: '', versions: ['v1'], resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'],
    subresources: ['status', 'attach', 'binding', 'eviction', 'exec', 'log', 'portforward'] },
  { group: '', versions: ['v1'], resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'],
    // Kubernetes does not offer deletecollection on services.
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: '', versions: ['v1'], resource: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  { group: '', versions: ['v1'], resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', versions: ['v1'], resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', versions: ['v1'], resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  // `token` is the TokenRequest subresource: a signed ServiceAccount token (actors/apiserver/authn).
  { group: '', versions: ['v1'], resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], subresources: ['token'] },
  { group: '', versions: ['v1'], resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], subresources: ['status'] },
  { group: '', versions: ['v1'], resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'], subresources: ['status'] },
  { group: '', versions: ['v1'], resource: 'resourcequotas', kind: 'ResourceQuota', namespaced: true, shortNames: ['quota'], subresources: ['status'] },
  { group: '', versions: ['v1'], resource: 'limitranges', kind: 'LimitRange', namespaced: true, shortNames: ['limits'] },
  { group: 'coordination.k8s.io', versions: ['v1'], resource: 'leases', kind: 'Lease', namespaced: true },
  { group: 'discovery.k8s.io', versions: ['v1'], resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'policy', versions: ['v1'], resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'], subresources: ['status'] },
  { group: 'scheduling.k8s.io', versions: ['v1'], resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] },
  { group: 'storage.k8s.io', versions: ['v1'], resource: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] },
  { group: 'apps', versions: ['v1'], resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'],
    subresources: ['status', 'scale'] },
  { group: 'apps', versions: ['v1'], resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], categories: ['all'],
    subresources: ['status', 'scale'] },
  { group: 'autoscaling', versions: ['v2', 'v1'], resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true,
    shortNames: ['hpa'], categories: ['all'], subresources: ['status'] },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], resource: 'roles', kind: 'Role', namespaced: true },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], resource: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration',
    namespaced: false, categories: ['api-extensions'] },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], resource: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration',
    namespaced: false, categories: ['api-extensions'] },
  // TLS bootstrap: a joining node's CSR, signed by the API server itself (admission/csr-signing.ts).
  // `approval` is registered as in Kubernetes; manual approval is not served yet (405).
  { group: 'certificates.k8s.io', versions: ['v1'], resource: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false,
    shortNames: ['csr'], subresources: ['status', 'approval'] },
];

/** Group order in discovery: core first, then as Kubernetes lists them. */
const groupOrder = ['', 'apps', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io', 'scheduling.k8s.io',
  'coordination.k8s.io', 'discovery.k8s.io', 'certificates.k8s.io'] as const;

function expand(spec: Spec): ResourceInfo[] {
  return spec.versions.map((version) => ({
    group: spec.group,
    version,
    resource: spec.resource,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? allVerbs,
    subresources: spec.subresources ?? [],
  }));
}

/** Every (group, version, resource) served; a resource served in two versions appears twice. */
export const resources: readonly ResourceInfo[] = Object.freeze(specs.flatMap(expand));

/**
 * Create-only review endpoints (SelfSubjectReview, SelfSubjectAccessReview, ...): answered from the
 * request and never stored, so they stay out of `resources`, which storage, namespace deletion and
 * validation iterate. Routing and discovery see them through `servedResources`.
 */
const reviewSpecs: readonly Spec[] = [
  { group: 'authentication.k8s.io', versions: ['v1'], resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', versions: ['v1'], resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', versions: ['v1'], resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
];

export const reviewResources: readonly ResourceInfo[] = Object.freeze(reviewSpecs.flatMap(expand));

/** Everything the router and discovery serve: the stored resources, then the review endpoints and metrics.k8s.io (served from the agents' reports, never stored). */
export const servedResources: readonly ResourceInfo[] = Object.freeze([...resources, ...reviewResources, ...metricsResources]);

/** The served groups including the review-only groups, for discovery. */
export function servedApiGroups(): { group: string; versions: string[]; preferredVersion: string }[] {
  const groups = apiGroups();
  for (const r of [...reviewResources, ...metricsResources]) {
    const found = groups.find((g) => g.group === r.group);
    if (found === undefined) groups.push({ group: r.group, versions: [r.version], preferredVersion: r.version });
    else if (!found.versions.includes(r.version)) found.versions.push(r.version);
  }
  return groups;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return servedResources.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function findByKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/** `apiVersion` as written in objects: `v1` for core, `apps/v1` otherwise. */
export function apiVersionOf(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** Parse an object's `apiVersion` into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * The served groups with their versions, preferred version first (autoscaling prefers v2, as
 * Kubernetes 1.32 does). The core group is included with group `''`.
 */
export function apiGroups(): { group: string; versions: string[]; preferredVersion: string }[] {
  const seen = new Map<string, string[]>();
  for (const group of groupOrder) seen.set(group, []);
  for (const r of resources) {
    const versions = seen.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    seen.set(r.group, versions);
  }
  return [...seen].filter(([, versions]) => versions.length > 0)
    .map(([group, versions]) => ({ group, versions, preferredVersion: versions[0] ?? 'v1' }));
}
