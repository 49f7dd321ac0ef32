/**
 * The verbs on a resource's collection and objects (K8S-API.md §2): get, list, create, update,
 * patch, delete, deletecollection. Every write runs authorize → admit (defaults + validation) →
 * store; `dryRun=All` runs the same pipeline and persists nothing.
 */
import { guardTokenRecordWrite } from '../authn/token-record-guard.js';
import { applyPatch, patchContentTypes, skeletonFor } from '../patch.js';
import { apiVersionOf, type ResourceInfo } from '../registry/resources.js';
import { ApiError, apiErrors } from '../status.js';
import { toTable } from '../table.js';
import { defaultService, prepareServiceUpdate } from '../services/service-spec.js';
import type { KubeObject } from '../types.js';
import { checkVerb, type AdmissionOperation, type Verb } from './admission.js';
import type { RequestContext } from './context.js';
import { parseDocument, parseObject, queryFlag, queryInteger, queryString, readBody, requestMediaType, sendJson, wantsTable } from './io.js';
import { protobufHpaCreateBody } from './protobuf-hpa.js';
import { WriteGuardConflictError, type DeleteOptions, type ListOptions, type WriteGuard } from './objects-port.js';

type IncludeObject = 'None' | 'Metadata' | 'Object';

export async function gate(ctx: RequestContext, verb: Verb): Promise<void> {
  const { info, namespace, name, subresource } = ctx.route;
  checkVerb(info, verb, subresource);
  await ctx.server.authorizer.authorize({ user: ctx.user, verb, info, namespace, name, subresource, fieldSelector: ctx.query.get('fieldSelector') ?? undefined });
}

/**
 * One admission review: the operation and objects, and what differs from the request's route. A
 * deletecollection admits each item under its own name and namespace; an eviction admits the
 * Eviction under the `eviction` subresource.
 */
export interface AdmissionTarget {
  readonly operation: AdmissionOperation;
  /** The object to write (null for DELETE). */
  readonly object: KubeObject | null;
  /** The stored object (null for CREATE). */
  readonly old: KubeObject | null;
  /** Default: the route's name, else the object's. */
  readonly name?: string | null;
  /** Default: the route's namespace. */
  readonly namespace?: string | null;
  /** Default: the route's subresource. */
  readonly subresource?: string | null;
  /** Default: the request's `dryRun` query. */
  readonly dryRun?: boolean;
  /** Where admission's write guards go (creates only). */
  readonly guard?: (guard: WriteGuard) => void;
}

/**
 * The admission chain for this request's resource, namespace and user; throws what it refuses with.
 * Warnings from admission (webhook `warnings`) become `Warning: 299 - "<text>"` headers, set at
 * once so they reach the client with a refusal too; a patch retried on conflict repeats none.
 */
export async function admitFor(ctx: RequestContext, target: AdmissionTarget): Promise<KubeObject | null> {
  const { route } = ctx;
  const { operation, object, old } = target;
  const name = target.name !== undefined ? target.name : route.name ?? (typeof object?.metadata?.name === 'string' ? object.metadata.name : null);
  const admitted = await ctx.server.admission.admit({
    info: route.info, operation, user: ctx.user, name, object, old,
    namespace: target.namespace !== undefined ? target.namespace : route.namespace,
    subresource: target.subresource !== undefined ? target.subresource : route.subresource,
    dryRun: target.dryRun ?? isDryRun(ctx.query), warn: (text) => addWarning(ctx, text),
    ...(target.guard !== undefined ? { guard: target.guard } : {}),
  });
  const stored = admitted ?? object;
  // After every mutation (webhooks included): what is checked is what would be stored.
  await guardTokenRecordWrite(ctx.server.authorizer, {
    info: route.info, namespace: target.namespace !== undefined ? target.namespace : route.namespace, user: ctx.user, object: operation === 'DELETE' ? null : stored,
  });
  return stored;
}

/** Admission for a write that must produce an object (create, update, patch). */
async function admitObject(ctx: RequestContext, operation: AdmissionOperation, object: KubeObject, old: KubeObject | null): Promise<KubeObject> {
  return (await admitFor(ctx, { operation, object, old })) ?? object;
}

function addWarning(ctx: RequestContext, text: string): void {
  // RFC 7234 warn-text is a quoted-string: backslash and double quote are escaped, control characters dropped.
  // eslint-disable-next-line no-control-regex
  const value = `299 - "${text.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const existing = ctx.res.getHeader('Warning');
  const values = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  if (!values.includes(value)) ctx.res.setHeader('Warning', [...values, value]);
}

export function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const value of values) {
    if (value !== 'All') throw apiErrors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  }
  return values.length > 0;
}

export function listOptions(query: URLSearchParams): ListOptions {
  const opts: ListOptions = {};
  const labelSelector = queryString(query, 'labelSelector');
  const fieldSelector = queryString(query, 'fieldSelector');
  const limit = queryInteger(query, 'limit');
  const token = queryString(query, 'continue');
  const resourceVersion = query.get('resourceVersion');
  const match = queryString(query, 'resourceVersionMatch');
  if (labelSelector !== undefined) opts.labelSelector = labelSelector;
  if (fieldSelector !== undefined) opts.fieldSelector = fieldSelector;
  if (limit !== undefined && limit > 0) opts.limit = limit;
  if (token !== undefined) opts.continue = token;
  if (resourceVersion !== null && resourceVersion !== '') opts.resourceVersion = resourceVersion;
  if (match !== undefined) opts.resourceVersionMatch = match;
  return opts;
}

export function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject') ?? 'Metadata';
  if (value !== 'None' && value !== 'Metadata' && value !== 'Object') throw apiErrors.badRequest(`includeObject: unsupported value ${JSON.stringify(value)}`);
  return value;
}

/** Writes one object, or a one-row Table when kubectl's human-readable `get` asked for it. */
export function sendObject(ctx: RequestContext, status: number, object: KubeObject): void {
  if (wantsTable(ctx.req)) {
    sendJson(ctx.res, status, toTable(ctx.route.info, [object], {
      resourceVersion: object.metadata.resourceVersion ?? '', includeObject: includeObject(ctx.query), now: ctx.server.wallClock(),
    }));
    return;
  }
  sendJson(ctx.res, status, object);
}

export async function handleGet(ctx: RequestContext): Promise<void> {
  const { info, namespace, name } = ctx.route;
  await gate(ctx, 'get');
  // resourceVersion=0: any state is fine, so the member answers from its own (even without quorum).
  const resourceVersion = ctx.query.get('resourceVersion') ?? undefined;
  sendObject(ctx, 200, await ctx.server.objects.get(info, namespace, requireName(name), { resourceVersion }));
}

export async function handleList(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  await gate(ctx, 'list');
  const result = await ctx.server.objects.list(info, namespace, listOptions(ctx.query));
  if (wantsTable(ctx.req)) {
    sendJson(ctx.res, 200, toTable(info, result.items, {
      resourceVersion: result.resourceVersion, includeObject: includeObject(ctx.query), now: ctx.server.wallClock(),
      ...(result.continue !== undefined ? { continue: result.continue } : {}),
    }));
    return;
  }
  sendJson(ctx.res, 200, {
    kind: info.listKind, apiVersion: apiVersionOf(info),
    metadata: {
      resourceVersion: result.resourceVersion,
      ...(result.continue !== undefined && result.continue !== '' ? { continue: result.continue } : {}),
      ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
    },
    items: result.items,
  });
}

/** Checks the body's apiVersion/kind/namespace/name against the URL and fills what it may omit. */
export function reconcileWithUrl(ctx: RequestContext, object: KubeObject, expected: { apiVersion: string; kind: string }): KubeObject {
  const { info, namespace, name } = ctx.route;
  if (object.apiVersion !== undefined && object.apiVersion !== expected.apiVersion) {
    throw apiErrors.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected.apiVersion})`);
  }
  if (object.kind !== undefined && object.kind !== expected.kind) {
    throw apiErrors.badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${expected.kind})`);
  }
  // Like the real decoder, the URL's group-version-kind fills what the body leaves out (client-node omits them).
  if (object.apiVersion === undefined) object.apiVersion = expected.apiVersion;
  if (object.kind === undefined) object.kind = expected.kind;
  const metadata = object.metadata;
  if (info.namespaced) {
    if (namespace === null) throw apiErrors.methodNotAllowed(`${info.resource} must be written under /namespaces/<namespace>/`);
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
      throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = namespace;
  } else {
    delete metadata.namespace;
  }
  if (name !== null) {
    if (metadata.name === undefined || metadata.name === '') metadata.name = name;
    if (metadata.name !== name) throw apiErrors.badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
  }
  return object;
}

export async function handleCreate(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  await gate(ctx, 'create');
  const limit = ctx.server.limits.requestBodyBytesMax;
  // `kubectl autoscale` posts its HPA as protobuf (read from the raw bytes); every other body is JSON or YAML.
  const parsed = (await protobufHpaCreateBody(ctx.req, info, limit)) ?? parseObject(requestMediaType(ctx.req), await readBody(ctx.req, limit));
  const object = reconcileWithUrl(ctx, parsed, { apiVersion: apiVersionOf(info), kind: info.kind });
  // Services: Kubernetes' defaults before admission, so webhooks and validation see them (the store applies them again).
  sendObject(ctx, 201, await admitAndCreate(ctx, isCoreServices(info) ? defaultService(object) : object, isDryRun(ctx.query)));
}

/**
 * Creates losing a guarded race (ResourceQuota: another create in the namespace landed first)
 * before answering 409: each loss means some other create succeeded, so a few suffice.
 */
const guardedCreateAttemptsMax = 5;

/** Admission, then a create carrying the guards admission asked for; a lost race is admitted again on fresh state. */
async function admitAndCreate(ctx: RequestContext, object: KubeObject, dryRun: boolean): Promise<KubeObject> {
  const { info, namespace } = ctx.route;
  for (let attempt = 1; ; attempt++) {
    const guards: WriteGuard[] = [];
    const admitted = (await admitFor(ctx, { operation: 'CREATE', object: structuredClone(object), old: null, guard: (g) => guards.push(g) })) ?? object;
    try {
      return await ctx.server.objects.create(info, namespace, admitted, { dryRun, guards });
    } catch (error) {
      if (!(error instanceof WriteGuardConflictError) || attempt >= guardedCreateAttemptsMax) throw error;
    }
  }
}

/** Server-owned fields a PUT body may leave out; kept from the stored object so validation sees no change. */
function keepServerFields(object: KubeObject, old: KubeObject): KubeObject {
  for (const field of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    const metadata = object.metadata as Record<string, unknown>;
    if (metadata[field] === undefined && old.metadata[field] !== undefined) metadata[field] = old.metadata[field];
  }
  return object;
}

export async function handleUpdate(ctx: RequestContext): Promise<void> {
  const { info, namespace, subresource } = ctx.route;
  await gate(ctx, 'update');
  const name = requireName(ctx.route.name);
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const object = reconcileWithUrl(ctx, parseObject(requestMediaType(ctx.req), body), { apiVersion: apiVersionOf(info), kind: info.kind });
  const old = await ctx.server.objects.get(info, namespace, name);
  const admitted = await admitObject(ctx, 'UPDATE', prepareForUpdate(info, subresource, keepServerFields(object, old), old), old);
  const updated = await ctx.server.objects.update(info, namespace, name, admitted, {
    subresource: subresource === 'status' ? 'status' : null, dryRun: isDryRun(ctx.query),
  });
  sendObject(ctx, 200, updated);
}

/**
 * The status strategy before validation, as Kubernetes' PrepareForUpdate: a write to `/status`
 * changes only `.status` (spec and metadata stay as stored, so immutable-field checks pass), and a
 * write to the main resource of a kind with a status subresource keeps the stored `.status`.
 */
export function prepareForUpdate(info: ResourceInfo, subresource: string | null, object: KubeObject, old: KubeObject): KubeObject {
  // Services: omitted addresses are kept and those a type change leaves meaningless dropped (services/service-spec.ts).
  if (subresource === null && isCoreServices(info)) defaultService(prepareServiceUpdate(old, object));
  if (subresource === 'status') {
    const metadata = { ...old.metadata };
    if (object.metadata.resourceVersion !== undefined) metadata.resourceVersion = object.metadata.resourceVersion;
    else delete metadata.resourceVersion;
    const prepared: KubeObject = { ...old, metadata };
    if (object['status'] === undefined) delete prepared['status'];
    else prepared['status'] = object['status'];
    return prepared;
  }
  if (!info.subresources.includes('status')) return object;
  const prepared: KubeObject = { ...object };
  if (old['status'] === undefined) delete prepared['status'];
  else prepared['status'] = old['status'];
  return prepared;
}

/** Keeps identity fields a patch must not change (a patch may not rename or move an object). */
function keepIdentity(patched: KubeObject, current: KubeObject): KubeObject {
  patched.apiVersion = current.apiVersion;
  patched.kind = current.kind;
  patched.metadata = { ...patched.metadata };
  if (current.metadata.name !== undefined) patched.metadata.name = current.metadata.name;
  if (current.metadata.namespace !== undefined) patched.metadata.namespace = current.metadata.namespace;
  return patched;
}

export async function handlePatch(ctx: RequestContext): Promise<void> {
  const { info, namespace, subresource } = ctx.route;
  await gate(ctx, 'patch');
  const name = requireName(ctx.route.name);
  const contentType = requestMediaType(ctx.req);
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const fieldManager = queryString(ctx.query, 'fieldManager');
  const isApply = contentType === patchContentTypes.apply;
  if (isApply && fieldManager === undefined) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  }
  const patchOptions = {
    ...(fieldManager !== undefined ? { fieldManager } : {}), force: queryFlag(ctx.query, 'force'), now: rfc3339(ctx.server.wallClock()),
  };
  const mutate = async (current: KubeObject): Promise<KubeObject> => {
    const patched = keepIdentity(applyPatch(contentType, current, body, info, patchOptions), current);
    return admitObject(ctx, 'UPDATE', prepareForUpdate(info, subresource, patched, current), current);
  };
  const dryRun = isDryRun(ctx.query);
  try {
    const updated = await ctx.server.objects.guaranteedUpdate(info, namespace, name, mutate, {
      subresource: subresource === 'status' ? 'status' : null, dryRun,
    });
    sendObject(ctx, 200, updated);
  } catch (error) {
    // Server-side apply creates an absent object (K8S-API.md §4: 201 when it created it).
    if (!(isApply && subresource === null && error instanceof ApiError && error.httpStatus === 404)) throw error;
    const skeleton = skeletonFor(info, info.namespaced ? namespace : null, name);
    sendObject(ctx, 201, await admitAndCreate(ctx, keepIdentity(applyPatch(contentType, skeleton, body, info, patchOptions), skeleton), dryRun));
  }
}

/** The port's DeleteOptions plus the grace period (objects-port.ts does not name it yet; ObjectStore takes it). */
type GracefulDeleteOptions = DeleteOptions & { gracePeriodSeconds?: number };

/**
 * `gracePeriodSeconds` from the body or the query: an integer (kubectl sends 0 for
 * `--grace-period=0 --force`, the agent 0 to confirm a pod's end); a negative one is Kubernetes' "1 s".
 */
export function gracePeriodOption(fromBody: unknown, query: URLSearchParams): number | undefined {
  const raw = fromBody ?? query.get('gracePeriodSeconds') ?? undefined;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw apiErrors.badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(raw)}: must be an integer`);
  return value;
}

/** DeleteOptions come as a JSON body (kubectl) or query parameters (client-node); both are honoured. */
async function deleteOptions(ctx: RequestContext): Promise<GracefulDeleteOptions> {
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const parsed = body.trim() === '' ? {} : parseDocument(requestMediaType(ctx.req), body);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw apiErrors.badRequest('DeleteOptions must be a JSON object');
  const fields = parsed as { preconditions?: unknown; propagationPolicy?: unknown; orphanDependents?: unknown; dryRun?: unknown; gracePeriodSeconds?: unknown };
  const opts: GracefulDeleteOptions = {};
  const grace = gracePeriodOption(fields.gracePeriodSeconds, ctx.query);
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = typeof fields.propagationPolicy === 'string' ? fields.propagationPolicy : queryString(ctx.query, 'propagationPolicy');
  const orphanQuery = queryString(ctx.query, 'orphanDependents');
  const orphan = typeof fields.orphanDependents === 'boolean' ? fields.orphanDependents : orphanQuery === undefined ? undefined : orphanQuery === 'true';
  if (policy !== undefined && orphan !== undefined) {
    throw new ApiError(422, 'Invalid', 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "' + policy + '": orphanDependents and deletionPropagation cannot be both set');
  }
  if (policy !== undefined) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) throw apiErrors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
    opts.propagationPolicy = policy;
  }
  // The deprecated boolean still works as Kubernetes reads it: true orphans, false cascades in the background.
  if (orphan !== undefined) opts.propagationPolicy = orphan ? 'Orphan' : 'Background';
  if (typeof fields.preconditions === 'object' && fields.preconditions !== null) {
    const p = fields.preconditions as { uid?: unknown; resourceVersion?: unknown };
    opts.preconditions = {
      ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
      ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
    };
  }
  const bodyDryRun = Array.isArray(fields.dryRun) && fields.dryRun.includes('All');
  if (bodyDryRun || isDryRun(ctx.query)) opts.dryRun = true;
  return opts;
}

export async function handleDelete(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  await gate(ctx, 'delete');
  const name = requireName(ctx.route.name);
  const opts = await deleteOptions(ctx);
  // DELETE goes through admission too (NodeRestriction, validating webhooks): no object, the stored one as old.
  const stored = await ctx.server.objects.get(info, namespace, name);
  await admitFor(ctx, { operation: 'DELETE', object: null, old: stored, dryRun: opts.dryRun === true });
  const result = await ctx.server.objects.delete(info, namespace, name, opts);
  // Core stores answer the deleted (or now terminating: 200 with deletionTimestamp) object; kubectl and client-node accept it.
  sendJson(ctx.res, 200, result.object);
}

/**
 * Deletes every object the selectors match, each admitted as its own DELETE (no object, the stored
 * one as old), as Kubernetes' DeleteCollection does. Kubernetes deletes with a few workers in
 * parallel and answers the first error; here the items go one by one in list order and the first
 * refusal ends the request: the refused object and those after it stay, those before are deleted.
 */
export async function handleDeleteCollection(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  await gate(ctx, 'deletecollection');
  const opts = await deleteOptions(ctx);
  // Every match goes, so paging options do not apply (the store bounds the list itself).
  const { limit: _limit, continue: _continue, ...selection } = listOptions(ctx.query);
  const listed = await ctx.server.objects.list(info, namespace, selection);
  const itemOptions: GracefulDeleteOptions = {
    ...(opts.dryRun !== undefined ? { dryRun: opts.dryRun } : {}),
    ...(opts.propagationPolicy !== undefined ? { propagationPolicy: opts.propagationPolicy } : {}),
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
  };
  const items: KubeObject[] = [];
  for (const stored of listed.items) {
    const name = stored.metadata.name ?? '';
    const itemNamespace = stored.metadata.namespace ?? null;
    await admitFor(ctx, { operation: 'DELETE', object: null, old: stored, name, namespace: itemNamespace, dryRun: opts.dryRun === true });
    try {
      items.push((await ctx.server.objects.delete(info, itemNamespace, name, itemOptions)).object);
    } catch (error) {
      // Deleted concurrently: it is gone, which is what was asked.
      if (!(error instanceof ApiError && error.httpStatus === 404)) throw error;
    }
  }
  sendJson(ctx.res, 200, { kind: info.listKind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: listed.resourceVersion }, items });
}

function isCoreServices(info: ResourceInfo): boolean {
  return info.group === '' && info.resource === 'services';
}

export function requireName(name: string | null): string {
  if (name === null) throw apiErrors.methodNotAllowed('this verb needs an object name in the URL');
  return name;
}

/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type { ResourceInfo };
