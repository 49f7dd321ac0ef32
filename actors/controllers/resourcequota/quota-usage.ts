/**
 * What a ResourceQuota's `status.used` says, as a pure function of the namespace's objects
 * (Kubernetes' quota evaluators): only the names its `spec.hard` lists, each recomputed from
 * scratch, so deletes lower it as creates raise it.
 * - pods: `pods`, `count/pods`; compute `requests.<r>` (and bare `cpu`, `memory`,
 *   `ephemeral-storage`) from podRequests, `limits.<r>` from podLimits; a terminal pod
 *   (Succeeded, Failed) holds nothing.
 * - services: `services`, `count/services`, `services.loadbalancers`, `services.nodeports`.
 * - `configmaps`, `secrets`, `resourcequotas` and their `count/` names; PVCs:
 *   `persistentvolumeclaims`, `requests.storage`, and the per-StorageClass
 *   `<class>.storageclass.storage.k8s.io/{requests.storage,persistentvolumeclaims}`.
 * - any other `count/<resource>[.<group>]`: the count the caller supplies.
 *
 * Decision: values are formatted as admission formats them (formatQuantity), and compared by
 * value, so the two writers never flip a status between two spellings of one amount.
 */
import type { PersistentVolumeClaim, Pod, ResourceQuota, Service } from 'kubernetes-types/core/v1.js';
import { formatQuantity, isPodTerminal, parseQuantity, podLimits, podRequests } from '../../objects/index.js';

export interface NamespaceObjects {
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly configmaps: number;
  readonly secrets: number;
  readonly resourcequotas: number;
  readonly persistentvolumeclaims: readonly PersistentVolumeClaim[];
  /** Counts for other `count/<resource>.<group>` names, by that name; a name missing here is not tracked. */
  readonly otherCounts: ReadonlyMap<string, number>;
}

const storageClassSuffix = '.storageclass.storage.k8s.io/';
const bareCompute: readonly string[] = ['cpu', 'memory', 'ephemeral-storage'];

/** The `count/...` names counted by the caller rather than from NamespaceObjects' typed lists. */
export function isOtherCountName(name: string): boolean {
  return name.startsWith('count/') && !['count/pods', 'count/services', 'count/configmaps', 'count/secrets', 'count/resourcequotas', 'count/persistentvolumeclaims'].includes(name);
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

function claimStorage(claim: PersistentVolumeClaim): number {
  return parseQuantity(claim.spec?.resources?.requests?.['storage']) ?? 0;
}

function nodePorts(service: Service): number {
  if (service.spec?.type !== 'NodePort' && service.spec?.type !== 'LoadBalancer') return 0;
  return (service.spec.ports ?? []).filter((p) => p.nodePort !== undefined && p.nodePort !== 0).length;
}

/** One name's usage; undefined when kubus does not track it (it is then left out of status.used). */
function usageOf(name: string, objects: NamespaceObjects, livePods: readonly Pod[]): number | undefined {
  switch (name) {
    case 'pods': case 'count/pods': return livePods.length;
    case 'services': case 'count/services': return objects.services.length;
    case 'services.loadbalancers': return objects.services.filter((s) => s.spec?.type === 'LoadBalancer').length;
    case 'services.nodeports': return sum(objects.services, nodePorts);
    case 'configmaps': case 'count/configmaps': return objects.configmaps;
    case 'secrets': case 'count/secrets': return objects.secrets;
    case 'resourcequotas': case 'count/resourcequotas': return objects.resourcequotas;
    case 'persistentvolumeclaims': case 'count/persistentvolumeclaims': return objects.persistentvolumeclaims.length;
    case 'requests.storage': return sum(objects.persistentvolumeclaims, claimStorage);
    default: break;
  }
  if (name.includes(storageClassSuffix)) {
    const [className, what] = name.split(storageClassSuffix) as [string, string];
    const claims = objects.persistentvolumeclaims.filter((c) => (c.spec?.storageClassName ?? '') === className);
    if (what === 'requests.storage') return sum(claims, claimStorage);
    if (what === 'persistentvolumeclaims') return claims.length;
    return undefined;
  }
  if (name.startsWith('count/')) return objects.otherCounts.get(name);
  if (name.startsWith('requests.')) return sum(livePods, (p) => podRequests(p)[name.slice('requests.'.length)] ?? 0);
  if (name.startsWith('limits.')) return sum(livePods, (p) => podLimits(p)[name.slice('limits.'.length)] ?? 0);
  if (bareCompute.includes(name)) return sum(livePods, (p) => podRequests(p)[name] ?? 0);
  return undefined;
}

/** `status.used` for a quota limiting `hardNames`, formatted as the API shows it. */
export function quotaUsage(hardNames: readonly string[], objects: NamespaceObjects): Record<string, string> {
  const livePods = objects.pods.filter((p) => !isPodTerminal(p));
  const used: Record<string, string> = {};
  for (const name of [...hardNames].sort()) {
    const value = usageOf(name, objects, livePods);
    if (value !== undefined) used[name] = formatQuantity(value, name);
  }
  return used;
}

function sameAmounts(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => b[k] !== undefined && parseQuantity(a[k]) === parseQuantity(b[k]));
}

/** Does `next` lower any name below what `current` says (a charge that could be lost to a stale view)? */
export function lowersUsage(current: Readonly<Record<string, string>>, next: Readonly<Record<string, string>>): boolean {
  return Object.entries(next).some(([name, value]) => {
    const before = parseQuantity(current[name]);
    const after = parseQuantity(value);
    return before !== undefined && after !== undefined && after < before;
  });
}

/**
 * The quota with `status.hard` mirrored from `spec.hard` and `status.used` set to `used`, or null
 * when the stored status already says exactly that (by value).
 */
export function quotaWithStatus(quota: ResourceQuota, used: Record<string, string>): ResourceQuota | null {
  const hard: Record<string, string> = { ...(quota.spec?.hard ?? {}) };
  const status = quota.status ?? {};
  if (sameAmounts(status.hard ?? {}, hard) && sameAmounts(status.used ?? {}, used)) return null;
  return { ...quota, status: { ...status, hard, used } };
}
