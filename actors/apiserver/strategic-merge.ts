/**
 * Strategic merge patch (SMP) for the built-in kinds kubus serves: a JSON merge patch where some
 * lists merge element by element on a key, following the `patchStrategy`/`patchMergeKey` tags of
 * k8s.io/api 1.32 (K8S-API.md §5.2). kubectl builds client-side apply and most of its write
 * commands on SMP, so these rules decide whether `kubectl apply` twice is a no-op.
 */
import { ApiError } from './status.js';

/** How one field of a kind merges; fields absent from a schema merge as maps or are replaced (atomic). */
export interface FieldSchema {
  /** Keyed list (`patchStrategy:merge` + `patchMergeKey`). */
  readonly mergeKey?: string;
  /** List of primitives merged as a set union (`finalizers`, `podCIDRs`). */
  readonly primitiveMerge?: boolean;
  /** Map (or each list item) honours `$retainKeys`. */
  readonly retainKeys?: boolean;
  /** Schema of the map's fields, or of each element of a keyed list. */
  readonly fields?: Readonly<Record<string, FieldSchema>>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const keyed = (mergeKey: string, fields?: Record<string, FieldSchema>, retainKeys?: boolean): FieldSchema => ({
  mergeKey, ...(fields !== undefined ? { fields } : {}), ...(retainKeys === true ? { retainKeys } : {}),
});
const conditions = keyed('type');

const container: Record<string, FieldSchema> = {
  env: keyed('name'),
  ports: keyed('containerPort'),
  volumeMounts: keyed('mountPath'),
  volumeDevices: keyed('devicePath'),
};

const podSpec: FieldSchema = {
  fields: {
    containers: keyed('name', container),
    initContainers: keyed('name', container),
    ephemeralContainers: keyed('name', container),
    volumes: keyed('name', undefined, true),
    imagePullSecrets: keyed('name'),
    schedulingGates: keyed('name'),
    hostAliases: keyed('ip'),
    topologySpreadConstraints: keyed('topologyKey'),
    resourceClaims: keyed('name', undefined, true),
  },
};

const objectMeta: FieldSchema = { fields: { ownerReferences: keyed('uid'), finalizers: { primitiveMerge: true } } };
const podTemplate: FieldSchema = { fields: { metadata: objectMeta, spec: podSpec } };
const workloadStatus: FieldSchema = { fields: { conditions } };

/** Root schemas by `group/Kind`; every kind has at least the ObjectMeta rules. */
const schemas: Readonly<Record<string, FieldSchema>> = {
  '/Pod': { fields: { spec: podSpec, status: { fields: { conditions, podIPs: keyed('ip'), hostIPs: keyed('ip') } } } },
  'apps/Deployment': { fields: { spec: { fields: { template: podTemplate, strategy: { retainKeys: true } } }, status: workloadStatus } },
  'apps/ReplicaSet': { fields: { spec: { fields: { template: podTemplate } }, status: workloadStatus } },
  'apps/StatefulSet': { fields: { spec: { fields: { template: podTemplate } }, status: workloadStatus } },
  'apps/DaemonSet': { fields: { spec: { fields: { template: podTemplate } }, status: workloadStatus } },
  '/Service': { fields: { spec: { fields: { ports: keyed('port') } }, status: { fields: { conditions } } } },
  '/ServiceAccount': { fields: { secrets: keyed('name') } },
  '/Node': { fields: { spec: { fields: { podCIDRs: { primitiveMerge: true } } }, status: { fields: { conditions, addresses: keyed('type') } } } },
  '/Namespace': { fields: { status: { fields: { conditions } } } },
  '/PersistentVolumeClaim': { fields: { status: { fields: { conditions } } } },
  'autoscaling/HorizontalPodAutoscaler': { fields: { status: { fields: { conditions } } } },
  'policy/PodDisruptionBudget': { fields: { status: { fields: { conditions } } } },
};

/** The SMP schema of a kind (group '' for core). */
export function schemaFor(group: string, kind: string): FieldSchema {
  const own = schemas[`${group}/${kind}`];
  return { fields: { ...(own?.fields ?? {}), metadata: objectMeta } };
}

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const invalidPatch = (message: string): ApiError => new ApiError(422, 'Invalid', message);

const deleteFromPrefix = '$deleteFromPrimitiveList/';
const setOrderPrefix = '$setElementOrder/';

/** Removes every `$` directive key, recursively, so none reaches storage. */
export function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) {
    return value.filter((item) => !(isPlainObject(item) && item['$patch'] !== undefined && Object.keys(item).length === 1)).map(stripDirectives);
  }
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    if (item === null) continue; // null means "delete" in a patch; with no original there is nothing to delete
    out[key] = stripDirectives(item);
  }
  return out;
}

/** Applies a strategic merge patch document to `original` (neither is modified). */
export function strategicMerge(original: unknown, patch: unknown, schema: FieldSchema): Json {
  if (!isPlainObject(patch)) throw new ApiError(400, 'BadRequest', 'a strategic merge patch must be a JSON object');
  const base = isPlainObject(original) ? original : {};
  const merged = mergeMap(base, patch, schema);
  return merged === undefined ? {} : merged;
}

/** Returns undefined when the patch deletes the whole map (`$patch: delete`). */
function mergeMap(original: JsonObject, patch: JsonObject, schema: FieldSchema | undefined): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') throw invalidPatch(`unknown patch type: ${JSON.stringify(directive)}`);

  let result: JsonObject = { ...original };
  const retain = patch['$retainKeys'];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) throw invalidPatch('$retainKeys must be a list of strings');
    const keep = new Set(retain as string[]);
    result = Object.fromEntries(Object.entries(result).filter(([k]) => keep.has(k)));
  }

  const orders = new Map<string, Json>();
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(setOrderPrefix)) { orders.set(key.slice(setOrderPrefix.length), value); continue; }
    if (key.startsWith(deleteFromPrefix)) continue; // applied after the merge of its field, below
    if (key.startsWith('$')) throw invalidPatch(`unknown directive ${key}`);
    const fieldSchema = schema?.fields?.[key];
    if (value === null) { delete result[key]; continue; }
    const current = result[key];
    const merged = mergeValue(current, value, fieldSchema);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }

  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(deleteFromPrefix)) continue;
    const field = key.slice(deleteFromPrefix.length);
    if (!Array.isArray(value)) throw invalidPatch(`${key} must be a list`);
    const current = result[field];
    if (Array.isArray(current)) {
      const drop = new Set(value.map((v) => JSON.stringify(v)));
      result[field] = current.filter((v) => !drop.has(JSON.stringify(v)));
    }
  }

  for (const [field, order] of orders) {
    const current = result[field];
    const fieldSchema = schema?.fields?.[field];
    if (Array.isArray(current) && Array.isArray(order)) result[field] = reorder(current, order, fieldSchema?.mergeKey);
  }
  return result;
}

function mergeValue(current: Json | undefined, value: Json, schema: FieldSchema | undefined): Json | undefined {
  if (Array.isArray(value)) {
    if (schema?.mergeKey !== undefined && Array.isArray(current)) return mergeKeyedList(current, value, schema);
    if (schema?.primitiveMerge === true && Array.isArray(current)) return mergePrimitiveList(current, value);
    return stripDirectives(value);
  }
  if (isPlainObject(value)) {
    if (isPlainObject(current)) return mergeMap(current, value, schema);
    if (value['$patch'] === 'delete') return undefined;
    return stripDirectives(value);
  }
  return value;
}

function mergePrimitiveList(current: Json[], patch: Json[]): Json[] {
  const replace = patch.some((item) => isPlainObject(item) && item['$patch'] === 'replace');
  const items = patch.filter((item) => !isPlainObject(item));
  if (replace) return items;
  const seen = new Set(current.map((v) => JSON.stringify(v)));
  const out = [...current];
  for (const item of items) {
    const id = JSON.stringify(item);
    if (!seen.has(id)) { seen.add(id); out.push(item); }
  }
  return out;
}

function mergeKeyedList(current: Json[], patch: Json[], schema: FieldSchema): Json[] {
  const mergeKey = schema.mergeKey as string;
  const itemSchema: FieldSchema = { ...(schema.fields !== undefined ? { fields: schema.fields } : {}) };
  if (patch.some((item) => isPlainObject(item) && item['$patch'] === 'replace')) {
    return stripDirectives(patch.filter((item) => !(isPlainObject(item) && item['$patch'] === 'replace'))) as Json[];
  }
  const out: Json[] = [...current];
  for (const item of patch) {
    if (!isPlainObject(item)) { out.push(item); continue; }
    const key = item[mergeKey];
    if (key === undefined) {
      if (item['$patch'] === 'delete') throw invalidPatch(`a $patch: delete element needs the merge key "${mergeKey}"`);
      out.push(stripDirectives(item));
      continue;
    }
    const index = out.findIndex((existing) => isPlainObject(existing) && sameKey(existing[mergeKey], key));
    if (item['$patch'] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index < 0) { out.push(stripDirectives(item)); continue; }
    const merged = mergeMap(out[index] as JsonObject, item, itemSchema);
    if (merged === undefined) out.splice(index, 1);
    else out[index] = merged;
  }
  return out;
}

function sameKey(a: Json | undefined, b: Json): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/** `$setElementOrder`: listed elements first in the listed order, the rest after in their current order. */
function reorder(current: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const identity = (item: Json): string => JSON.stringify(mergeKey !== undefined && isPlainObject(item) ? item[mergeKey] ?? null : item);
  const orderIds = order.map(identity);
  const rank = new Map<string, number>();
  orderIds.forEach((id, i) => { if (!rank.has(id)) rank.set(id, i); });
  const listed = current.filter((item) => rank.has(identity(item)));
  const rest = current.filter((item) => !rank.has(identity(item)));
  listed.sort((a, b) => (rank.get(identity(a)) ?? 0) - (rank.get(identity(b)) ?? 0));
  return [...listed, ...rest];
}
