/**
 * The bootstrap policy every member creates idempotently at start (Kubernetes'
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy, trimmed to the resources kubus serves):
 * cluster-admin for `system:masters`, the user-facing admin/edit/view, the roles of the scheduler,
 * controller manager, cloud controller manager, nodes and proxy, and system:basic-user (self reviews) for every
 * authenticated user. Existing objects are left as they are, so an operator's edits survive.
 */
import { findResource } from '../registry/resources.js';
import { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import type { ObjectStorage } from '../http/objects-port.js';
import type { PolicyRule } from './rbac-rules.js';

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const readWrite = [...read, ...write];
const workloads = ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale'];

/**
 * metrics-server's `system:aggregated-metrics-reader` (aggregated into view, edit and admin in
 * Kubernetes through its aggregate-to-* labels; kubus has no role aggregation, so the rule is also
 * spelled into viewRules): `kubectl top` for whoever may view.
 */
const metricsReaderRules: PolicyRule[] = [
  { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: read },
];

const viewRules: PolicyRule[] = [
  ...metricsReaderRules,
  { apiGroups: [''], resources: ['pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'events', 'serviceaccounts'], verbs: read },
  { apiGroups: [''], resources: ['namespaces', 'namespaces/status'], verbs: read },
  { apiGroups: ['apps'], resources: [...workloads, 'deployments/status', 'replicasets/status'], verbs: read },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], verbs: read },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: read },
];

const editRules: PolicyRule[] = [
  ...viewRules,
  { apiGroups: [''], resources: ['pods', 'pods/eviction', 'services', 'endpoints', 'configmaps', 'secrets', 'persistentvolumeclaims', 'serviceaccounts', 'events'], verbs: readWrite },
  { apiGroups: ['apps'], resources: workloads, verbs: readWrite },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: readWrite },
  // Kubernetes' edit role: whoever may change pods may also get a shell in them and forward their ports.
  { apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward'], verbs: ['get', 'create'] },
];

const adminRules: PolicyRule[] = [
  ...editRules,
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: readWrite },
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
];

const schedulerRules: PolicyRule[] = [
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['kube-scheduler'], verbs: ['get', 'update'] },
  { apiGroups: [''], resources: ['nodes', 'namespaces', 'services', 'persistentvolumeclaims', 'persistentvolumes'], verbs: read },
  { apiGroups: [''], resources: ['pods'], verbs: ['delete', ...read] },
  { apiGroups: [''], resources: ['bindings', 'pods/binding'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['patch', 'update'] },
  { apiGroups: ['apps'], resources: ['replicasets', 'statefulsets'], verbs: read },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: read },
  { apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: read },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: read },
  // WaitForFirstConsumer: the scheduler names the chosen node on the claim (volume.kubernetes.io/selected-node).
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['patch', 'update'] },
];

const controllerManagerRules: PolicyRule[] = [
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['kube-controller-manager'], verbs: ['get', 'update'] },
  // kubus runs every controller under one identity (no per-controller service accounts).
  { apiGroups: ['', 'apps', 'autoscaling', 'policy', 'discovery.k8s.io', 'storage.k8s.io', 'scheduling.k8s.io'], resources: ['*'], verbs: readWrite },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: readWrite },
  // The garbage collector and the namespace controller reach every resource (Kubernetes'
  // generic-garbage-collector and namespace-controller roles): read, delete, and patch ownerReferences.
  { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch', 'delete', 'deletecollection', 'patch', 'update'] },
];

/**
 * Kubernetes' cloud-controller-manager role (cloud-provider's bootstrap RBAC), trimmed to what
 * kubus's service, cloud-node and cloud-node-lifecycle controllers do: label, taint, address and
 * delete Nodes; finalizers and status.loadBalancer of Services; its own Lease; Events.
 */
const cloudControllerManagerRules: PolicyRule[] = [
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['cloud-controller-manager'], verbs: ['get', 'update'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
  { apiGroups: [''], resources: ['services/status'], verbs: ['patch', 'update'] },
  { apiGroups: [''], resources: ['endpoints'], verbs: read },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
];

const nodeRoleRules: PolicyRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'update'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
  { apiGroups: [''], resources: ['services', 'endpoints'], verbs: read },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['patch', 'update'] },
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'persistentvolumeclaims', 'persistentvolumes'], verbs: ['get'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'delete', 'get', 'patch', 'update'] },
];

const nodeProxierRules: PolicyRule[] = [
  { apiGroups: [''], resources: ['services', 'endpoints', 'nodes'], verbs: read },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
];

/**
 * TLS bootstrap: what system:node-bootstrapper grants a bootstrap token (its one power), and what
 * nodes get for renewal. Who gets which certificate is decided when signing (admission/csr-signing.ts:
 * a node only its own name). Not narrowed to one's own CSRs: a CSR holds a public key and a
 * certificate, nothing secret.
 */
const csrRequesterRules: PolicyRule[] = [
  { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] },
];

const basicUserRules: PolicyRule[] = [
  { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
];

const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

function clusterRole(name: string, rules: PolicyRule[], labels: Readonly<Record<string, string>> = {}): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabels, ...labels }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } }, rules,
  };
}

function clusterRoleBinding(name: string, role: string, subjects: { kind: 'User' | 'Group'; name: string }[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels: bootstrapLabels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ ...s, apiGroup: 'rbac.authorization.k8s.io' })),
  };
}

export function defaultClusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }]),
    clusterRole('admin', adminRules),
    clusterRole('edit', editRules),
    clusterRole('view', viewRules),
    // Kubernetes' scrape role: a Prometheus with a certificate in O=system:monitoring reads /metrics and the health endpoints.
    clusterRole('system:monitoring', [{ nonResourceURLs: ['/metrics', '/metrics/slis', '/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*'], verbs: ['get'] }]),
    clusterRole('system:aggregated-metrics-reader', metricsReaderRules, {
      'rbac.authorization.k8s.io/aggregate-to-view': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
    }),
    clusterRole('system:basic-user', basicUserRules),
    clusterRole('system:kube-scheduler', schedulerRules),
    clusterRole('system:kube-controller-manager', controllerManagerRules),
    clusterRole('system:cloud-controller-manager', cloudControllerManagerRules),
    clusterRole('system:node', nodeRoleRules),
    clusterRole('system:node-proxier', nodeProxierRules),
    clusterRole('system:node-bootstrapper', csrRequesterRules),
    clusterRole('kubus:node-certificate-renewal', csrRequesterRules),
  ];
}

export function defaultClusterRoleBindings(): KubeObject[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [{ kind: 'Group', name: 'system:monitoring' }]),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [{ kind: 'User', name: 'system:kube-scheduler' }]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [{ kind: 'User', name: 'system:kube-controller-manager' }]),
    clusterRoleBinding('system:cloud-controller-manager', 'system:cloud-controller-manager', [{ kind: 'User', name: 'system:cloud-controller-manager' }]),
    // As in Kubernetes since 1.8: nodes are authorized by the Node authorizer, not this binding.
    clusterRoleBinding('system:node', 'system:node', []),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', [{ kind: 'User', name: 'system:kube-proxy' }]),
    clusterRoleBinding('kubus:node-bootstrapper', 'system:node-bootstrapper', [{ kind: 'Group', name: 'system:bootstrappers' }]),
    clusterRoleBinding('kubus:node-certificate-renewal', 'kubus:node-certificate-renewal', [{ kind: 'Group', name: 'system:nodes' }]),
  ];
}

/** Creates what is missing; an existing object (409) is kept. */
export async function ensureDefaultPolicy(objects: Pick<ObjectStorage, 'create'>): Promise<void> {
  const roles = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles');
  const bindings = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
  if (roles === undefined || bindings === undefined) throw new Error('authz: the RBAC resources are not registered');
  const wanted: [typeof roles, KubeObject][] = [
    ...defaultClusterRoles().map((o): [typeof roles, KubeObject] => [roles, o]),
    ...defaultClusterRoleBindings().map((o): [typeof roles, KubeObject] => [bindings, o]),
  ];
  for (const [info, object] of wanted) {
    try {
      await objects.create(info, null, object);
    } catch (error) {
      if (!(error instanceof ApiError && error.httpStatus === 409)) throw error;
    }
  }
}
