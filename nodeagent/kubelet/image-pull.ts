/**
 * The kubelet's image step before a container is created: the pull policy Kubernetes defaulted,
 * the registry credentials of the pod's imagePullSecrets, and the back-off after a failed pull
 * (the container waits in ErrImagePull, then ImagePullBackOff, as `kubectl get pods` shows it).
 *
 * Decision: credentials are matched by registry host, the way the kubelet's keyring does for
 * `.dockerconfigjson` secrets: the image's registry (docker.io when the reference names none)
 * against each auths key's host. Unreadable or malformed secrets are skipped (a public image
 * still pulls), and logged by the caller.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ImagePullAuth, ImagePullPolicy } from '../runtime/types.js';
import { kubeletLimits } from './limits.js';

/** The policy the API defaulted; a pod read from an old checkpoint may lack it: Kubernetes' default. */
export function pullPolicyOf(container: Container): ImagePullPolicy {
  const policy = container.imagePullPolicy;
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  const image = container.image ?? '';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tagged = lastSegment.includes(':') || image.includes('@');
  return !tagged || lastSegment.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** The registry host of an image reference (`docker.io` when the first segment is not a host). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

function hostOf(key: string): string {
  const withoutScheme = key.replace(/^[a-z]+:\/\//, '');
  const host = withoutScheme.split('/')[0] ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The credentials of `.dockerconfigjson` (or legacy `.dockercfg`) secret data that match the image's registry. */
export function credentialsFor(image: string, secrets: readonly Readonly<Record<string, Buffer>>[]): ImagePullAuth[] {
  const registry = registryOf(image);
  const out: ImagePullAuth[] = [];
  for (const data of secrets) {
    const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
    if (raw === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      continue;
    }
    const root = parsed as { auths?: Record<string, unknown> } & Record<string, unknown>;
    const auths = (root.auths ?? root) as Record<string, unknown>;
    for (const [key, value] of Object.entries(auths)) {
      if (hostOf(key) !== registry || typeof value !== 'object' || value === null) continue;
      const entry = value as Record<string, unknown>;
      const text = (name: string): string | undefined => (typeof entry[name] === 'string' ? entry[name] as string : undefined);
      const username = text('username');
      const password = text('password');
      const auth = text('auth');
      const identityToken = text('identitytoken');
      out.push({
        registry,
        ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}),
        ...(auth !== undefined ? { auth } : {}), ...(identityToken !== undefined ? { identityToken } : {}),
      });
    }
  }
  return out;
}

/** The pod's pull secrets' data (missing ones skipped), read through `secretData`. */
export async function pullSecretsOf(pod: Pod, secretData: (namespace: string, name: string) => Promise<Readonly<Record<string, Buffer>> | null>): Promise<Readonly<Record<string, Buffer>>[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const out: Readonly<Record<string, Buffer>>[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (ref.name === undefined || ref.name === '') continue;
    const data = await secretData(namespace, ref.name).catch(() => null);
    if (data !== null) out.push(data);
  }
  return out;
}

/** The kubelet's image back-off: 10 s doubling to 300 s after each failed pull. */
export function imagePullBackoffMs(failures: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 10));
  return Math.min(kubeletLimits.imagePullBackoffInitialMs * 2 ** exponent, kubeletLimits.imagePullBackoffMaxMs);
}

/** The waiting reason after `failures` failed pulls: the first shows the error, later ones the back-off (never-pull and bad names stay as they are). */
export function imagePullWaitingReason(reason: string, failures: number): string {
  return reason === 'ErrImagePull' && failures > 1 ? 'ImagePullBackOff' : reason;
}
