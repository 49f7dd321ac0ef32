/**
 * NodeRestriction: what a node's kubelet (user `system:node:<name>` in group `system:nodes`) may
 * write, on top of the Node authorizer. A node may create, update and delete only its own Node and
 * never change its taints or the labels Kubernetes reserves; it may update the status of, and
 * delete or evict, only pods bound to it, create only mirror pods bound to it, and write no other pod
 * subresource; it may write only its own Lease. Everyone else passes untouched.
 */
import { apiErrors } from '../status.js';
import type { KubeObject, UserInfo } from '../types.js';
import type { AdmissionRequest } from '../http/admission.js';

const nodeUserPrefix = 'system:node:';
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/** The node a user acts as, or null for anyone who is not a node. */
export function nodeNameOf(user: UserInfo): string | null {
  if (!user.name.startsWith(nodeUserPrefix) || !user.groups.includes('system:nodes')) return null;
  const name = user.name.slice(nodeUserPrefix.length);
  return name === '' ? null : name;
}

/** Labels a kubelet may set on its own Node (Kubernetes' kubelet label allow-list). */
const allowedLabels: readonly string[] = [
  'kubernetes.io/hostname', 'kubernetes.io/arch', 'kubernetes.io/os', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/region', 'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
];
const allowedLabelDomains: readonly string[] = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Whether a node may set or change the label `key` on itself. */
export function isNodeSettableLabel(key: string): boolean {
  if (allowedLabels.includes(key)) return true;
  const slash = key.indexOf('/');
  if (slash < 0) return true;
  const domain = key.slice(0, slash);
  if (domain === 'node-restriction.kubernetes.io' || domain.endsWith('.node-restriction.kubernetes.io')) return false;
  if (allowedLabelDomains.some((d) => domain === d || domain.endsWith(`.${d}`))) return true;
  const reserved = ['kubernetes.io', 'k8s.io'].some((d) => domain === d || domain.endsWith(`.${d}`));
  return !reserved;
}

const labelsOf = (object: KubeObject | null): Record<string, string> => object?.metadata.labels ?? {};
const taintsOf = (object: KubeObject | null): string => JSON.stringify((object?.['spec'] as { taints?: unknown } | undefined)?.taints ?? []);
const boundNode = (pod: KubeObject | null): unknown => (pod?.['spec'] as { nodeName?: unknown } | undefined)?.nodeName;

function changedLabels(object: KubeObject | null, old: KubeObject | null): string[] {
  const now = labelsOf(object);
  const before = labelsOf(old);
  const keys = new Set([...Object.keys(now), ...Object.keys(before)]);
  return [...keys].filter((key) => now[key] !== before[key]);
}

function admitNode(node: string, request: AdmissionRequest): void {
  const target = request.name ?? request.object?.metadata.name ?? '';
  if (target !== node) throw apiErrors.forbidden(`node "${node}" is not allowed to modify node "${target}"`);
  if (request.operation === 'DELETE') return;
  if (request.operation === 'UPDATE' && taintsOf(request.object) !== taintsOf(request.old)) {
    throw apiErrors.forbidden(`node "${node}" is not allowed to modify taints`);
  }
  const forbidden = changedLabels(request.object, request.operation === 'CREATE' ? null : request.old).filter((key) => !isNodeSettableLabel(key));
  if (forbidden.length > 0) {
    throw apiErrors.forbidden(`node "${node}" is not allowed to modify labels: ${forbidden.sort().join(', ')}`);
  }
}

function admitPod(node: string, request: AdmissionRequest): void {
  const name = request.name ?? '';
  if (request.subresource === 'status') {
    if (boundNode(request.old) !== node) throw apiErrors.forbidden(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    return;
  }
  if (request.subresource === 'eviction') {
    admitEviction(node, request);
    return;
  }
  // As Kubernetes' NodeRestriction: status and eviction are the only pod subresources a kubelet writes.
  if (request.subresource !== null) throw apiErrors.forbidden(`unexpected pod subresource "${request.subresource}", node "${node}" may only write 'status' and 'eviction'`);
  switch (request.operation) {
    case 'CREATE': {
      const annotations = request.object?.metadata.annotations ?? {};
      if (annotations[mirrorPodAnnotation] === undefined) {
        throw apiErrors.forbidden(`pod "${name}" does not have "${mirrorPodAnnotation}" annotation, node "${node}" can only create mirror pods`);
      }
      if (boundNode(request.object) !== node) throw apiErrors.forbidden(`node "${node}" can only create pods with spec.nodeName set to itself`);
      return;
    }
    case 'DELETE':
      if (boundNode(request.old) !== node) throw apiErrors.forbidden(`node "${node}" can only delete pods with spec.nodeName set to itself`);
      return;
    default:
      throw apiErrors.forbidden(`unexpected operation ${request.operation}, node "${node}" can only create and delete mirror pods`);
  }
}

/**
 * An eviction is a CREATE of `pods/eviction` whose `old` is the pod to evict. Kubernetes reads the
 * pod from its cache and lets a missing pod through (the eviction then answers 404); the handler
 * here always reads the pod first, so a missing `old` is refused rather than trusted.
 */
function admitEviction(node: string, request: AdmissionRequest): void {
  if (request.operation !== 'CREATE') throw apiErrors.forbidden(`unexpected operation ${request.operation} on pods/eviction, node "${node}" can only create evictions`);
  if (boundNode(request.old) !== node) throw apiErrors.forbidden(`node "${node}" can only evict pods with spec.nodeName set to itself`);
}

function admitLease(node: string, request: AdmissionRequest): void {
  if (request.namespace !== 'kube-node-lease' || (request.name ?? request.object?.metadata.name) !== node) {
    throw apiErrors.forbidden(`node "${node}" can only access its own lease in the kube-node-lease namespace`);
  }
}

/** Throws 403 Forbidden when a node oversteps; returns for everything else. */
export function admitNodeRestriction(request: AdmissionRequest): void {
  const node = nodeNameOf(request.user);
  if (node === null) return;
  const key = `${request.info.group}/${request.info.resource}`;
  if (key === '/nodes') admitNode(node, request);
  else if (key === '/pods') admitPod(node, request);
  else if (key === 'coordination.k8s.io/leases') admitLease(node, request);
}
