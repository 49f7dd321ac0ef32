/**
 * NamespaceLifecycle: no new content in a namespace that does not exist or is being terminated,
 * and the system namespaces (default, kube-system, kube-public) may not be deleted. The store
 * checks the namespace again inside its write transaction; this plugin answers earlier (before
 * webhooks are called) and with Kubernetes' messages, dry-run included.
 */
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { AdmissionRequest } from '../http/admission.js';

export const undeletableNamespaces: readonly string[] = ['default', 'kube-system', 'kube-public'];

/** The namespace object, or null when it does not exist. */
export type NamespaceLookup = (name: string) => Promise<KubeObject | null>;

export function isTerminating(namespace: KubeObject): boolean {
  const phase = (namespace['status'] as { phase?: unknown } | undefined)?.phase;
  return phase === 'Terminating' || namespace.metadata.deletionTimestamp !== undefined;
}

export async function admitNamespaceLifecycle(request: AdmissionRequest, lookup: NamespaceLookup): Promise<void> {
  const { info, operation, namespace } = request;
  if (info.group === '' && info.kind === 'Namespace') {
    if (operation === 'DELETE' && request.name !== null && undeletableNamespaces.includes(request.name)) {
      throw apiErrors.forbidden(`namespaces "${request.name}" is forbidden: this namespace may not be deleted`);
    }
    return;
  }
  if (!info.namespaced || operation !== 'CREATE' || namespace === null) return;
  const found = await lookup(namespace);
  if (found === null) throw apiErrors.notFound('namespaces', '', namespace);
  if (isTerminating(found)) {
    throw apiErrors.forbidden(`${info.resource} "${request.name ?? ''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
  }
}
