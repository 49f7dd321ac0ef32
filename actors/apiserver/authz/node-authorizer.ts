/**
 * The Node authorizer (Kubernetes' plugin/pkg/auth/authorizer/node), as issue 4 §2 narrows it:
 * `system:node:<name>` in group `system:nodes` may read only its own Node and Lease, the pods bound
 * to it and what those pods reference (node-graph.ts), and write only its own Node and Lease, its
 * own pods' status, and events. Pods are listed and watched only with
 * `fieldSelector=spec.nodeName=<name>`. A few cluster-wide reads every kubelet needs (services,
 * endpoints) come from `nodeRules`, like Kubernetes' embedded system:node rules.
 *
 * Decision: the answer is `allow` or `noOpinion`; RBAC decides after a `noOpinion`, so an
 * administrator can still grant a node more through a binding. Create of a Node or Lease is
 * allowed here with the name unknown (it is in the body): NodeRestriction admission checks it.
 */
import { rulesAllow, type Attributes, type PolicyRule, type UserIdentity } from './rbac-rules.js';
import type { NodeGraph } from './node-graph.js';

export const nodesGroup = 'system:nodes';
const nodeUserPrefix = 'system:node:';
export const nodeLeaseNamespace = 'kube-node-lease';

export type NodeDecision = 'allow' | 'noOpinion';

/** Reads every kubelet needs that are not tied to one node. */
export const nodeRules: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
  // The node's service proxy and DNS server (issue 12), and which pod network each node is on (Kubernetes' system:node role reads nodes too).
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'selfsubjectaccessreviews'], verbs: ['create'] },
];

/** The node a user acts for, or null when the user is not a node. */
export function nodeNameOf(user: UserIdentity): string | null {
  if (!user.groups.includes(nodesGroup) || !user.name.startsWith(nodeUserPrefix)) return null;
  const name = user.name.slice(nodeUserPrefix.length);
  return name === '' ? null : name;
}

/** True when the selector pins `field` to `value` (one term of a conjunction is enough). */
export function selectorPins(fieldSelector: string | undefined, field: string, value: string): boolean {
  if (fieldSelector === undefined) return false;
  return fieldSelector.split(',').map((term) => term.trim()).some((term) => term === `${field}=${value}` || term === `${field}==${value}`);
}

export interface NodeRequest {
  readonly attributes: Attributes;
  readonly fieldSelector?: string | undefined;
}

export function authorizeNode(node: string, graph: NodeGraph, request: NodeRequest): NodeDecision {
  const a = request.attributes;
  if (!a.resourceRequest) return 'noOpinion';
  const allowed = a.apiGroup === '' ? coreDecision(node, graph, a, request.fieldSelector) : groupDecision(node, a);
  if (allowed) return 'allow';
  return rulesAllow(nodeRules, a) ? 'allow' : 'noOpinion';
}

type ResourceAttributes = Extract<Attributes, { resourceRequest: true }>;

const readVerbs = new Set(['get']);
const writeVerbs = new Set(['create', 'update', 'patch']);

function coreDecision(node: string, graph: NodeGraph, a: ResourceAttributes, fieldSelector: string | undefined): boolean {
  const { verb, name, namespace, subresource } = a;
  switch (a.resource) {
    case 'nodes':
      if (name === null) {
        if (verb === 'create') return subresource === null;
        return (verb === 'list' || verb === 'watch') && selectorPins(fieldSelector, 'metadata.name', node);
      }
      if (name !== node) return false;
      if (subresource === 'status') return verb === 'get' || verb === 'update' || verb === 'patch';
      // Its own bus user and API token (http/node-credentials.ts, which also refuses every non-node caller).
      if (subresource === 'credentials') return verb === 'create';
      return subresource === null && (readVerbs.has(verb) || verb === 'watch' || verb === 'update' || verb === 'patch');
    case 'pods':
      if (name === null) return (verb === 'list' || verb === 'watch') && selectorPins(fieldSelector, 'spec.nodeName', node);
      if (namespace === null || !graph.has(node, 'pod', namespace, name)) return false;
      if (subresource === 'status') return verb === 'get' || verb === 'update' || verb === 'patch';
      // A kubelet evicts its own pods (node-pressure eviction); never another node's.
      if (subresource === 'eviction') return verb === 'create';
      return subresource === null && (verb === 'get' || verb === 'delete');
    case 'configmaps': return readable(graph, node, 'configmap', a);
    case 'serviceaccounts':
      // Kubernetes' rule: a node may request tokens only for service accounts its own pods use.
      return subresource === 'token' && verb === 'create' && namespace !== null && name !== null && graph.has(node, 'serviceaccount', namespace, name);
    case 'secrets': return readable(graph, node, 'secret', a);
    case 'persistentvolumeclaims': return readable(graph, node, 'pvc', a);
    case 'persistentvolumes': return readVerbs.has(verb) && subresource === null && name !== null && graph.hasPersistentVolume(node, name);
    case 'events': return subresource === null && writeVerbs.has(verb);
    default: return false;
  }
}

function readable(graph: NodeGraph, node: string, kind: 'configmap' | 'secret' | 'pvc', a: ResourceAttributes): boolean {
  return readVerbs.has(a.verb) && a.subresource === null && a.name !== null && a.namespace !== null && graph.has(node, kind, a.namespace, a.name);
}

function groupDecision(node: string, a: ResourceAttributes): boolean {
  if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases' && a.subresource === null) {
    if (a.namespace !== nodeLeaseNamespace) return false;
    if (a.name === null) return a.verb === 'create';
    return a.name === node && (a.verb === 'get' || a.verb === 'update' || a.verb === 'patch' || a.verb === 'delete');
  }
  if (a.apiGroup === 'events.k8s.io' && a.resource === 'events') return a.subresource === null && writeVerbs.has(a.verb);
  return false;
}
