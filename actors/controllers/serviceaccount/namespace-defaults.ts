/**
 * What every Active namespace holds (Kubernetes' serviceaccount and root-ca-cert-publisher
 * controllers): a `default` ServiceAccount, and a `kube-root-ca.crt` ConfigMap whose `ca.crt` is
 * the cluster CA, so a pod's projected kube-api-access volume can verify the API server. Pure
 * decisions; the controllers do the writes.
 */
import type { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';

export const defaultServiceAccountName = 'default';
export const rootCaConfigMapName = 'kube-root-ca.crt';
export const rootCaKey = 'ca.crt';
export const descriptionAnnotation = 'kubernetes.io/description';
/** Kubernetes' text, word for word: tools that read it find the same promise. */
export const rootCaDescription = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal ' +
  'service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** Active: not being deleted (a namespace whose phase is not yet written counts as Active). */
export function isNamespaceActive(namespace: Pick<Namespace, 'metadata' | 'status'>): boolean {
  if (namespace.metadata?.deletionTimestamp !== undefined) return false;
  const phase = namespace.status?.phase;
  return phase === undefined || phase === 'Active';
}

export function defaultServiceAccount(namespace: string): ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: defaultServiceAccountName, namespace } };
}

export type ConfigMapAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'create'; readonly body: ConfigMap }
  | { readonly kind: 'update'; readonly body: ConfigMap };

/**
 * The write that makes the namespace's root-CA ConfigMap say `caPem`: a create when it is
 * missing; an update when its data differs from exactly `{ca.crt: caPem}` or its description is
 * gone (Kubernetes replaces the whole data, so an added key is removed too); nothing otherwise.
 */
export function rootCaAction(namespace: string, current: ConfigMap | undefined, caPem: string): ConfigMapAction {
  const data = { [rootCaKey]: caPem };
  if (current === undefined) {
    return { kind: 'create', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: rootCaConfigMapName, namespace, annotations: { [descriptionAnnotation]: rootCaDescription } }, data } };
  }
  const annotations = current.metadata?.annotations ?? {};
  const dataSame = JSON.stringify(current.data ?? {}) === JSON.stringify(data) && current.binaryData === undefined;
  if (dataSame && (annotations[descriptionAnnotation] ?? '') !== '') return { kind: 'none' };
  const { binaryData: _binary, ...rest } = current;
  return {
    kind: 'update',
    body: { ...rest, metadata: { ...current.metadata, annotations: { ...annotations, [descriptionAnnotation]: rootCaDescription } }, data },
  };
}
