/**
 * PATCH: the four Kubernetes patch types (K8S-API.md §5), applied to the current object as plain
 * JSON. The caller then runs the ordinary update path (defaults, validation, storage), so this file
 * only computes the patched object and reports malformed (400) or inapplicable (422) patches.
 */
import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { checkNestingDepth } from './document-depth.js';
import type { ResourceInfo } from './registry/resources.js';
import { ApiError, apiErrors } from './status.js';
import { isPlainObject, schemaFor, strategicMerge, type FieldSchema } from './strategic-merge.js';
import type { KubeObject } from './types.js';

export const patchContentTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface PatchOptions {
  readonly fieldManager?: string;
  readonly force?: boolean;
  /** RFC 3339 time recorded in managedFields by server-side apply; omitted when absent (no wall clock here). */
  readonly now?: string;
}

const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
const unprocessable = (message: string): ApiError => new ApiError(422, 'Invalid', message);
const tooDeep = (limit: number): ApiError => badRequest(`error decoding patch: the document nests deeper than ${limit} levels`);

/** The media type without parameters, lower-cased: `application/json-patch+json; charset=utf-8` → the bare type. */
export function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Applies `body` (the raw request body) to `current` according to `contentType`. `current` is not
 * modified. For server-side apply of an absent object, pass `skeletonFor(...)` as `current`.
 */
export function applyPatch(contentType: string, current: KubeObject, body: string, info: ResourceInfo, opts: PatchOptions): KubeObject {
  const type = mediaType(contentType);
  if (type !== patchContentTypes.apply && opts.force !== undefined && opts.force) {
    throw unprocessable('force: Forbidden: may not be specified for non-apply patch');
  }
  switch (type) {
    case patchContentTypes.json: return asObject(jsonPatch(current, parseJson(body)));
    case patchContentTypes.merge: return asObject(mergePatch(current, requireObject(parseJson(body), 'merge')));
    case patchContentTypes.strategic: return asObject(strategicMerge(current, requireObject(parseJson(body), 'strategic merge'), schemaFor(info.group, info.kind)));
    case patchContentTypes.apply: return serverSideApply(current, body, info, opts);
    default:
      throw apiErrors.unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: ${Object.values(patchContentTypes).join(', ')}`);
  }
}

/** The empty object server-side apply merges into when the target does not exist yet. */
export function skeletonFor(info: ResourceInfo, namespace: string | null, name: string): KubeObject {
  return {
    apiVersion: info.group === '' ? info.version : `${info.group}/${info.version}`,
    kind: info.kind,
    metadata: { name, ...(namespace !== null ? { namespace } : {}) },
  };
}

function parseJson(body: string): unknown {
  checkNestingDepth(body, 'json', tooDeep);
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw badRequest(`a ${what} patch must be a JSON object`);
  return value;
}

/** A patch must leave an object behind; kind/name checks are validation's job. */
function asObject(value: unknown): KubeObject {
  if (!isPlainObject(value)) throw unprocessable('the patch does not produce an object');
  const object = value as Record<string, unknown>;
  if (!isPlainObject(object['metadata'])) object['metadata'] = {};
  return object as unknown as KubeObject;
}

/** fast-json-patch error names that mean "the document is malformed" (400) rather than "does not apply" (422). */
const malformedJsonPatch = new Set([
  'SEQUENCE_NOT_AN_ARRAY', 'OPERATION_NOT_AN_OBJECT', 'OPERATION_OP_INVALID', 'OPERATION_PATH_INVALID',
  'OPERATION_FROM_REQUIRED', 'OPERATION_VALUE_REQUIRED', 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED',
]);

function jsonPatch(current: KubeObject, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('a json patch must be a JSON array of operations');
  try {
    const document = structuredClone(current);
    return jsonpatch.applyPatch(document, ops as jsonpatch.Operation[], true, true, true).newDocument;
  } catch (error) {
    if (error instanceof jsonpatch.JsonPatchError) {
      const message = `the json patch could not be applied: ${error.name}: ${firstLine(error.message)}`;
      throw malformedJsonPatch.has(error.name) ? badRequest(message) : unprocessable(message);
    }
    throw unprocessable(`the json patch could not be applied: ${(error as Error).message}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Server-side apply, the pragmatic version of K8S-API.md §5.4: merge the applied intent with SMP
 * list semantics, record the manager in managedFields; no pruning, no conflicts.
 */
function serverSideApply(current: KubeObject, body: string, info: ResourceInfo, opts: PatchOptions): KubeObject {
  if (opts.fieldManager === undefined || opts.fieldManager === '') {
    throw unprocessable('fieldManager: Required value: is required for apply patch');
  }
  let applied: unknown;
  checkNestingDepth(body, 'yaml', tooDeep);
  try {
    // Aliases bounded as for every YAML body (io.ts): a "billion laughs" document must not expand.
    applied = parseYaml(body, { maxAliasCount: 100 }) as unknown;
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
  const intent = requireObject(applied, 'apply');
  if (typeof intent['apiVersion'] !== 'string' || typeof intent['kind'] !== 'string') {
    throw badRequest('an apply patch must set apiVersion and kind');
  }
  // Compared with the target rather than info.kind so an apply to a subresource (a Scale) works too.
  if (intent['kind'] !== current.kind) {
    throw badRequest(`the apply patch kind "${intent['kind']}" does not match the object kind "${current.kind}"`);
  }
  const metadata = isPlainObject(intent['metadata']) ? { ...intent['metadata'] } : {};
  delete metadata['managedFields'];
  const cleanIntent = { ...intent, metadata };
  const schema = schemaFor(info.group, info.kind);
  const merged = asObject(strategicMerge(current, cleanIntent, schema));
  const entry: Record<string, unknown> = {
    manager: opts.fieldManager,
    operation: 'Apply',
    apiVersion: intent['apiVersion'],
    ...(opts.now !== undefined ? { time: opts.now } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: fieldSet(cleanIntent, schema),
  };
  const others = (Array.isArray(current.metadata.managedFields) ? current.metadata.managedFields : [])
    .filter((e) => !(isPlainObject(e) && e['manager'] === opts.fieldManager && e['operation'] === 'Apply'));
  merged.metadata.managedFields = [...others, entry];
  return merged;
}

/** The FieldsV1 set of an applied object: `f:<field>` for map keys, `k:{...}` for keyed list items, `.` for leaves. */
export function fieldSet(value: unknown, schema: FieldSchema | undefined, top = true): Record<string, unknown> {
  if (!isPlainObject(value)) return {};
  const out: Record<string, unknown> = top ? {} : { '.': {} };
  for (const [key, item] of Object.entries(value)) {
    if (top && (key === 'apiVersion' || key === 'kind')) continue;
    if (top && key === 'metadata' && isPlainObject(item)) {
      const meta: Record<string, unknown> = {};
      for (const m of ['labels', 'annotations'] as const) {
        const map = item[m];
        if (isPlainObject(map)) meta[`f:${m}`] = Object.fromEntries(Object.keys(map).map((k) => [`f:${k}`, {}]));
      }
      if (Object.keys(meta).length > 0) out['f:metadata'] = meta;
      continue;
    }
    const fieldSchema = schema?.fields?.[key];
    if (Array.isArray(item) && fieldSchema?.mergeKey !== undefined) {
      const mergeKey = fieldSchema.mergeKey;
      const itemSchema: FieldSchema = fieldSchema.fields !== undefined ? { fields: fieldSchema.fields } : {};
      const list: Record<string, unknown> = {};
      for (const element of item) {
        if (isPlainObject(element) && element[mergeKey] !== undefined) {
          list[`k:${JSON.stringify({ [mergeKey]: element[mergeKey] })}`] = fieldSet(element, itemSchema, false);
        }
      }
      out[`f:${key}`] = list;
    } else if (isPlainObject(item)) {
      out[`f:${key}`] = fieldSet(item, fieldSchema, false);
      delete (out[`f:${key}`] as Record<string, unknown>)['.'];
    } else {
      out[`f:${key}`] = {};
    }
  }
  return out;
}
