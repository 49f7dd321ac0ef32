/**
 * ResourceQuota at admission: the usage a create would add (object counts such as `pods` and
 * `count/configmaps`, pod compute `requests.cpu`, `requests.memory`, `limits.*`) checked against
 * each quota's `spec.hard` in the namespace; over it, 403 with Kubernetes' message naming the quota.
 *
 * Decision: usage is computed here by listing the namespace's objects (bounded by
 * quotaUsageObjectsMax), not read from `status.used`: the quota controller
 * (actors/controllers/resourcequota) lowers status.used after deletes only eventually, and
 * admission must not refuse a create on a count that is already stale. Two creates racing on
 * different members cannot both pass: each writes the quota's new `status.used` in its own store
 * transaction, guarded by the quota's revision it counted against (a WriteGuard), as Kubernetes
 * guards status.used with a compare-and-swap; the loser is admitted again on fresh state.
 */
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { formatQuantity, parseQuantity } from '../../objects/quantity.js';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Core resources Kubernetes also counts under their bare name (`pods`, `services`, ...). */
const bareCounted: readonly string[] = ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas'];
const computeNames: readonly string[] = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];

/** The quota names a create of this resource counts against. */
export function countNames(info: Pick<ResourceInfo, 'group' | 'resource'>): string[] {
  const names = [info.group === '' ? `count/${info.resource}` : `count/${info.resource}.${info.group}`];
  if (info.group === '' && bareCounted.includes(info.resource)) names.push(info.resource);
  return names;
}

/** A pod that finished holds no quota (Kubernetes: terminal pods are not counted). */
function isTerminalPod(pod: KubeObject): boolean {
  const phase = (pod['status'] as { phase?: unknown } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function containers(pod: KubeObject): Obj[] {
  const spec = pod['spec'];
  if (!isObj(spec) || !Array.isArray(spec['containers'])) return [];
  return (spec['containers'] as unknown[]).filter(isObj);
}

/** The pod's compute usage by quota name; a name is absent when some container does not specify it. */
export function podCompute(pod: KubeObject): Map<string, number> {
  const out = new Map<string, number>();
  const list = containers(pod);
  for (const name of computeNames) {
    const [kind, resource] = name.includes('.') ? name.split('.') as [string, string] : ['requests', name];
    let total = 0;
    let complete = list.length > 0;
    for (const container of list) {
      const resources = isObj(container['resources']) ? container['resources'] : {};
      const value = parseQuantity(isObj(resources[kind]) ? (resources[kind] as Obj)[resource] : undefined);
      if (value === undefined) complete = false;
      else total += value;
    }
    if (complete) out.set(name, total);
  }
  return out;
}

/** What one object adds to each quota name it counts under. */
export function usageOf(info: ResourceInfo, object: KubeObject): Map<string, number> {
  const usage = new Map<string, number>();
  if (info.group === '' && info.resource === 'pods' && isTerminalPod(object)) return usage;
  for (const name of countNames(info)) usage.set(name, 1);
  if (info.group === '' && info.resource === 'pods') for (const [name, value] of podCompute(object)) usage.set(name, value);
  return usage;
}

/** Names the quota limits that this kind of object can use; empty means the quota does not apply. */
function relevant(info: ResourceInfo, hard: Obj): string[] {
  const names = countNames(info);
  if (info.group === '' && info.resource === 'pods') names.push(...computeNames);
  return Object.keys(hard).filter((name) => names.includes(name));
}

/** The names of quota limits any of `quotas` sets for this kind: what the caller must compute usage for. */
export function trackedNames(info: ResourceInfo, quotas: readonly KubeObject[]): string[] {
  return [...new Set(quotas.flatMap((quota) => relevant(info, hardOf(quota))))];
}

const hardOf = (quota: KubeObject): Obj => {
  const spec = quota['spec'];
  return isObj(spec) && isObj(spec['hard']) ? spec['hard'] : {};
};

/**
 * Checks a create of `object` against `quotas`, given the namespace's current objects of the same
 * resource (`existing`). Throws 403 Forbidden naming the first quota exceeded; otherwise returns
 * the usage once the object exists, by quota name (what `status.used` then says).
 */
export function checkQuotas(info: ResourceInfo, object: KubeObject, quotas: readonly KubeObject[], existing: readonly KubeObject[]): Map<string, number> {
  const requested = usageOf(info, object);
  const objectName = object.metadata.name ?? object.metadata.generateName ?? '';
  const used = new Map<string, number>();
  for (const item of existing) for (const [name, value] of usageOf(info, item)) used.set(name, (used.get(name) ?? 0) + value);
  for (const quota of [...quotas].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const hard = hardOf(quota);
    const names = relevant(info, hard).sort();
    const missing = names.filter((name) => !requested.has(name) && computeNames.includes(name));
    if (missing.length > 0 && requested.size > 0) {
      throw apiErrors.forbidden(`${info.resource} "${objectName}" is forbidden: failed quota: ${quota.metadata.name ?? ''}: must specify ${missing.join(',')}`);
    }
    const over = names.filter((name) => {
      const limit = parseQuantity(hard[name]);
      return limit !== undefined && (used.get(name) ?? 0) + (requested.get(name) ?? 0) > limit;
    });
    if (over.length === 0) continue;
    const fmt = (source: (name: string) => number): string => over.map((name) => `${name}=${formatQuantity(source(name), name)}`).join(',');
    throw apiErrors.forbidden(`${info.resource} "${objectName}" is forbidden: exceeded quota: ${quota.metadata.name ?? ''}, ` +
      `requested: ${fmt((n) => requested.get(n) ?? 0)}, used: ${fmt((n) => used.get(n) ?? 0)}, limited: ${fmt((n) => parseQuantity(hard[n]) ?? 0)}`);
  }
  const after = new Map(used);
  for (const [name, value] of requested) after.set(name, (after.get(name) ?? 0) + value);
  return after;
}

/**
 * The quota as it stands once the create lands: `status.hard` from the spec and `status.used` for
 * the names this resource counts under (other names keep what the status said). Null when the
 * quota does not limit this resource, so the create need not be serialised on it.
 */
export function quotaAfterCreate(info: ResourceInfo, quota: KubeObject, usedAfter: ReadonlyMap<string, number>): KubeObject | null {
  const hard = hardOf(quota);
  const names = relevant(info, hard);
  if (names.length === 0) return null;
  const status = isObj(quota['status']) ? quota['status'] : {};
  const used: Record<string, string> = { ...(isObj(status['used']) ? status['used'] as Record<string, string> : {}) };
  for (const name of names) used[name] = formatQuantity(usedAfter.get(name) ?? 0, name);
  return { ...quota, status: { ...status, hard: { ...hard }, used } };
}
