/**
 * ServiceAccount admission for pod creates, as Kubernetes' `ServiceAccount` plugin: the pod runs
 * as `default` unless it names an account; a named account that does not exist is refused; the
 * account's API credentials are mounted as the projected `kube-api-access-<suffix>` volume (a
 * bound token, the cluster CA from `kube-root-ca.crt`, the namespace) in every container.
 *
 * Decision: a missing `default` account is accepted, not refused. The ServiceAccount controller
 * creates `default` asynchronously after a namespace appears; Kubernetes waits a few lookups for it
 * and then refuses, so a manifest that creates a namespace and its pods in one `kubectl apply`
 * fails on a busy cluster. A pod of a namespace without its `default` account yet gets the same
 * volume: its token is requested by the node agent when the pod starts, by then the account exists.
 */
import type { Pod, ServiceAccount, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import { apiErrors } from '../status.js';

export const defaultServiceAccountName = 'default';
export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Kubernetes' bound token lifetime for the projected volume: 1 h plus 7 s, so kubelets can tell it from a user's 3600 s. */
export const projectedTokenExpirationSeconds = 3607;
/** The annotation the node agent sets on mirror pods; they may not use API credentials. */
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
/** utilrand's alphabet: no vowels (no words) and no look-alike characters. */
const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A 5-character volume name suffix from `random` (a float in [0, 1)), as utilrand.String(5). */
export function volumeSuffix(random: () => number): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += suffixAlphabet[Math.floor(random() * suffixAlphabet.length) % suffixAlphabet.length];
  return out;
}

/** The account name the pod runs as (`default` when it names none). */
export function serviceAccountNameOf(pod: Pod): string {
  const name = pod.spec?.serviceAccountName;
  return name === undefined || name === '' ? defaultServiceAccountName : name;
}

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[mirrorPodAnnotation] !== undefined;
}

/** The projected volume Kubernetes mounts for API access. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: projectedTokenExpirationSeconds, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The pod as the plugin admits it, given the account found (`null`: none of that name). Throws
 * 403 Forbidden with Kubernetes' message for a named account that does not exist.
 */
export function admitServiceAccount(pod: Pod, account: ServiceAccount | null, options: { readonly namespace: string; readonly suffix: string }): Pod {
  if (isMirrorPod(pod)) return pod;
  const accountName = serviceAccountNameOf(pod);
  if (account === null && accountName !== defaultServiceAccountName) {
    throw apiErrors.forbidden(`pods "${pod.metadata?.name ?? ''}" is forbidden: error looking up service account ${options.namespace}/${accountName}: serviceaccount "${accountName}" not found`);
  }
  const spec = { ...pod.spec, serviceAccountName: accountName, containers: pod.spec?.containers ?? [] };
  // The pod's own setting wins over the account's (Kubernetes' shouldAutomount).
  const automount = spec.automountServiceAccountToken ?? account?.automountServiceAccountToken ?? true;
  if (!automount) return { ...pod, spec };
  const volumes = spec.volumes ?? [];
  // A pod that already mounts something at the path (its own token volume) keeps it.
  const mounted = (c: { volumeMounts?: VolumeMount[] }): boolean => (c.volumeMounts ?? []).some((m) => m.mountPath === serviceAccountMountPath);
  const existing = volumes.find((v) => v.name.startsWith('kube-api-access-') && v.projected !== undefined);
  const volumeName = existing?.name ?? `kube-api-access-${options.suffix}`;
  const mount = { name: volumeName, readOnly: true, mountPath: serviceAccountMountPath };
  const withMount = <C extends { volumeMounts?: VolumeMount[] }>(c: C): C => (mounted(c) ? c : { ...c, volumeMounts: [...(c.volumeMounts ?? []), mount] });
  const containers = spec.containers.map(withMount);
  const initContainers = spec.initContainers?.map(withMount);
  const used = [...containers, ...(initContainers ?? [])].some((c) => (c.volumeMounts ?? []).some((m) => m.name === volumeName));
  return {
    ...pod,
    spec: {
      ...spec, containers,
      ...(initContainers !== undefined ? { initContainers } : {}),
      ...(existing === undefined && used ? { volumes: [...volumes, apiAccessVolume(volumeName)] } : {}),
    },
  };
}
