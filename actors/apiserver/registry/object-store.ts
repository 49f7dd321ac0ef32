/**
 * Kubernetes objects on the cluster store: create, get, list, update, delete and watch with the
 * semantics kubectl and client-go rely on (server-owned metadata, optimistic concurrency on
 * resourceVersion, finalizers, consistent paginated lists, resumable watches).
 *
 * Decision: every write is one store txn guarded by the key's version or modRevision, so two API
 * servers racing on one object cannot both win; a lost race on an unconditional update re-reads
 * and retries (bounded), a lost race on a client's resourceVersion is the client's 409.
 *
 * Decision: every store write carries a fresh request id. The store client may then retry an
 * unknown outcome (a timeout while the leader changes) within the write's deadline, and the
 * member answers a retry of an applied write with its first result, so a leader failover costs a
 * client latency instead of a 504. A 503 still means "not applied": once any attempt may have
 * applied, the client's final error is OutcomeUnknown (504), never NoQuorum. Writes have a short
 * whole-call deadline (limits.ts) so that none hangs when quorum is lost.
 */
import type { Clock, Prng } from '../../../bus/index.js';
import type { Consistency, KeyValue, StoreClient } from '../../../store/index.js';
import { ApiError, apiErrors } from '../status.js';
import { WriteGuardConflictError, type WriteGuard } from '../http/objects-port.js';
import type { KubeObject } from '../types.js';
import { objectStoreLimits } from './limits.js';
import {
  deletionCompleteFor, effectivePolicy, finalizeNamespace, finalizersForDeletion, isPropagationPolicy, keepNamespaceFinalizers, namespaceSpecFinalizers,
  planGracefulDeletion, type GracePlan,
} from './deletion-policy.js';
import { mergeForUpdate, sameStoredState } from './object-merge.js';
import { startObjectWatch, type WatchOptions, type WatchSink } from './object-watch.js';
import { findResource, type ResourceInfo } from './resources.js';
import { isEverything, matchesSelector, parseObjectSelector } from './selectors.js';
import {
  decodeContinue, decodeObject, encodeContinue, encodeObject, listPrefix, objectKey, parseResourceVersion, prefixEnd,
} from './storage-codec.js';
import { StoreAccess } from './store-access.js';
import { hookLost, settling, type ResourceWriteHooks, type WriteHooksByResource } from './write-hooks.js';

export interface ObjectStoreOptions {
  readonly clock: Clock;
  /** Seeds uids and generated names; absent: node's crypto. */
  readonly random?: Prng;
  /** Epoch milliseconds for timestamps: `Clock.now()` is monotonic, not wall time. Default `Date.now`. */
  readonly wallClockMs?: () => number;
  /** What core resources add to their writes (`services`: the address allocators, apiserver/services/). */
  readonly writeHooks?: WriteHooksByResource;
  /**
   * Namespaces as this member's watch last saw them (a live WatchedCollection; undefined when it
   * does not know the name or its watch is down). A create into a namespace it shows Active skips
   * the namespace read: the create's txn compares the namespace's modRevision anyway, so a stale
   * view costs a retry at quorum, never a create in a namespace being terminated.
   */
  readonly namespaces?: (name: string) => KubeObject | undefined;
}

export interface ListOptions {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: string | undefined;
}

export interface ListResult {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface UpdateOptions {
  /** `finalize` (namespaces only) changes nothing but `spec.finalizers`. */
  readonly subresource?: 'status' | 'finalize' | null;
  readonly dryRun?: boolean;
}

export interface DeleteOptions {
  readonly preconditions?: { readonly uid?: string | undefined; readonly resourceVersion?: string | undefined } | undefined;
  readonly propagationPolicy?: string | undefined;
  readonly dryRun?: boolean | undefined;
  /** Pods: how long the agent has to stop it (deletion-policy.ts `planGracefulDeletion`); 0 removes it now. */
  readonly gracePeriodSeconds?: number | undefined;
}

export interface DeleteResult {
  /** The deleted object (with the deletion's resourceVersion) or, when finalizers hold it, its new state. */
  readonly object: KubeObject;
  /** False when the object is still there, marked for deletion. */
  readonly deleted: boolean;
}

/** Namespaces every cluster has; `ensureDefaults()` creates them and creates into them never 404. */
export const defaultNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;
const protectedNamespaces: readonly string[] = ['default', 'kube-system', 'kube-public'];

const namespaceInfo = findResource('', 'v1', 'namespaces') as ResourceInfo;

export class ObjectStore {
  private readonly wallClockMs: () => number;
  private readonly access: StoreAccess;

  constructor(private readonly client: StoreClient, private readonly options: ObjectStoreOptions) {
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.access = new StoreAccess(client, options.clock, options.random);
  }

  /** Creates the default namespaces if absent; idempotent. */
  async ensureDefaults(): Promise<void> {
    for (const name of defaultNamespaces) await this.ensureNamespace(name);
  }

  async create(info: ResourceInfo, namespace: string | null, object: KubeObject, opts: { dryRun?: boolean; guards?: readonly WriteGuard[] } = {}): Promise<KubeObject> {
    const guards = opts.guards ?? [];
    const prepared = this.prepareCreate(info, namespace, object);
    const namespaceName = prepared.metadata.namespace ?? null;
    const deadline = this.access.writeDeadline();
    let namespaceKv = namespaceName === null ? null : await this.requireWritableNamespace(namespaceName, deadline, { consistency: 'serializable', refused: `${info.resource} "${prepared.metadata.name ?? ''}"` });
    const generate = prepared.metadata.name === undefined || prepared.metadata.name === '';
    const hooks = this.hooksFor(info);
    let allocationLost = false;
    // The bound covers generated names and, for hooked resources, addresses other writes took first.
    for (let attempt = 0; attempt < objectStoreLimits.generateNameAttemptsMax; attempt++) {
      if (generate) prepared.metadata.name = `${prepared.metadata.generateName ?? ''}${this.access.randomSuffix()}`;
      const name = prepared.metadata.name as string;
      // Kubernetes' namespace Canonicalize: a generated name gets its label too.
      if (info.resource === 'namespaces') prepared.metadata.labels = { ...prepared.metadata.labels, 'kubernetes.io/metadata.name': name };
      const key = objectKey(info, namespaceName, name);
      if (opts.dryRun === true) {
        if (await this.access.read(key, 'linearizable', deadline) !== null) throw apiErrors.alreadyExists(info.resource, info.group, name);
        return hooks === null ? prepared : (await hooks.planCreate(prepared, { dryRun: true })).object;
      }
      const plan = hooks === null ? null : await hooks.planCreate(prepared, { dryRun: false });
      const stored = plan?.object ?? prepared;
      const hookCompares = plan?.compares ?? [];
      const nsKey = namespaceName === null ? null : objectKey(namespaceInfo, null, namespaceName);
      const result = await this.landedDespiteTimeout(info, key, stored, settling(plan, this.access.write((options) => this.client.txn(
        [
          { key, target: 'version', op: 'equal', value: 0 },
          // The namespace as read (Active): a namespace marked Terminating since then fails the create,
          // so nothing lands after the namespace controller's last look at the content.
          ...(nsKey === null || namespaceKv === null ? [] : [{ key: nsKey, target: 'modRevision' as const, op: 'equal' as const, value: namespaceKv.modRevision }]),
          ...guards.map((guard) => ({ key: guard.key, target: 'modRevision' as const, op: 'equal' as const, value: guard.modRevision })),
          ...hookCompares,
        ],
        [
          { type: 'put', request: { key, value: encodeObject(stored) } }, ...guards.map((guard) => ({ type: 'put' as const, request: { key: guard.key, value: encodeObject(guard.next) } })),
          ...(plan?.ops ?? []),
        ],
        [
          { type: 'range', request: { key, countOnly: true } }, ...guards.map((guard) => ({ type: 'range' as const, request: { key: guard.key } })),
          ...hookCompares.map((compare) => ({ type: 'range' as const, request: { key: compare.key } })),
        ],
        options,
      ), deadline)));
      if ('landed' in result) return result.landed;
      if (result.succeeded) return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(result.revision) } };
      const [existing, ...rest] = result.responses;
      const guarded = rest.slice(0, guards.length);
      const taken = existing?.type === 'range' && existing.result.count > 0;
      if (!taken) {
        const moved = guards.find((guard, i) => {
          const now = guarded[i];
          return now?.type === 'range' && (now.result.kvs[0]?.modRevision ?? 0) !== guard.modRevision;
        });
        if (moved !== undefined) throw new WriteGuardConflictError(moved.key);
        // Another write took what the hook claimed (a chosen address): plan again; `lost` throws when it cannot.
        if (plan !== null && hookLost(plan, rest.slice(guards.length))) {
          allocationLost = true;
          continue;
        }
        // The namespace changed (or this member's read was behind): look again at quorum; the
        // lookup throws 404 or 403 when the namespace is gone or terminating.
        namespaceKv = await this.requireWritableNamespace(namespaceName ?? '', deadline, { consistency: 'linearizable', refused: `${info.resource} "${name}"` });
        continue;
      }
      if (!generate) throw apiErrors.alreadyExists(info.resource, info.group, name);
    }
    if (allocationLost) throw conflict(info, prepared.metadata.name ?? '', 'other writes took every address chosen for it; please retry');
    throw apiErrors.alreadyExists(info.resource, info.group, prepared.metadata.generateName ?? '');
  }

  async get(info: ResourceInfo, namespace: string | null, name: string, opts: { resourceVersion?: string | undefined } = {}): Promise<KubeObject> {
    const kv = await this.access.read(objectKey(info, namespace, name), opts.resourceVersion === '0' ? 'serializable' : 'linearizable');
    if (kv === null) throw apiErrors.notFound(info.resource, info.group, name);
    return decodeObject(info, kv);
  }

  async list(info: ResourceInfo, namespace: string | null, opts: ListOptions = {}): Promise<ListResult> {
    const selector = parseObjectSelector(info, opts);
    const prefix = listPrefix(info, namespace);
    const end = prefixEnd(prefix);
    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const consistency: Consistency = opts.resourceVersion === '0' && opts.continue === undefined ? 'serializable' : 'linearizable';
    let revision = 0;
    let startKey = prefix;
    if (opts.continue !== undefined && opts.continue !== '') {
      const token = decodeContinue(opts.continue, prefix);
      revision = token.revision;
      startKey = token.startKey;
    } else if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      const requested = parseResourceVersion(opts.resourceVersion);
      const exact = opts.resourceVersionMatch === 'Exact' || (opts.resourceVersionMatch === undefined && limit > 0);
      if (exact) revision = requested;
    }
    const items: KubeObject[] = [];
    let remaining = 0;
    let nextKey: string | null = null;
    let complete = false;
    for (let batch = 0; batch < objectStoreLimits.listBatchesMax && !complete && nextKey === null; batch++) {
      const want = limit === 0 ? 0 : isEverything(selector) ? limit - items.length : Math.max(limit - items.length, objectStoreLimits.listBatchKeys);
      const response = await this.access.readRange({ key: startKey, end, limit: want, revision }, consistency, opts.continue !== undefined);
      if (revision === 0) revision = response.result.revision;
      const kvs = response.result.kvs;
      let consumed = 0;
      for (const kv of kvs) {
        consumed++;
        const object = decodeObject(info, kv);
        if (matchesSelector(selector, object)) items.push(object);
        if (limit > 0 && items.length >= limit) break;
      }
      const lastKey = kvs[consumed - 1]?.key;
      const moreInBatch = consumed < kvs.length;
      if (lastKey === undefined || (!response.result.more && !moreInBatch)) {
        complete = true;
        break;
      }
      remaining = response.result.count - consumed;
      startKey = `${lastKey}\u0000`;
      if (limit > 0 && items.length >= limit) nextKey = startKey;
    }
    // A selective filter that scanned its bound of batches returns a short page and a token, as
    // Kubernetes may: the client keeps paging.
    if (!complete && nextKey === null) nextKey = startKey;
    return {
      items,
      resourceVersion: String(revision),
      ...(nextKey !== null ? { continue: encodeContinue({ revision, startKey: nextKey }) } : {}),
      ...(nextKey !== null && isEverything(selector) ? { remainingItemCount: remaining } : {}),
    };
  }

  async update(info: ResourceInfo, namespace: string | null, name: string, object: KubeObject, opts: UpdateOptions = {}): Promise<KubeObject> {
    const bodyName = object.metadata?.name;
    if (bodyName !== undefined && bodyName !== '' && bodyName !== name) {
      throw apiErrors.badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    }
    const bodyNamespace = object.metadata?.namespace;
    if (info.namespaced && bodyNamespace !== undefined && bodyNamespace !== '' && bodyNamespace !== namespace) {
      throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return this.guaranteedUpdate(info, namespace, name, () => object, opts);
  }

  /**
   * Read, mutate, compare-and-swap; on a lost race, again (bounded). A resourceVersion in the
   * mutated object is a precondition: a mismatch is a 409 Conflict.
   */
  async guaranteedUpdate(
    info: ResourceInfo, namespace: string | null, name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>, opts: UpdateOptions = {},
  ): Promise<KubeObject> {
    const key = objectKey(info, namespace, name);
    const deadline = this.access.writeDeadline();
    for (let attempt = 0; attempt < objectStoreLimits.updateAttemptsMax; attempt++) {
      const kv = await this.access.read(key, 'linearizable', deadline);
      if (kv === null) throw apiErrors.notFound(info.resource, info.group, name);
      const current = decodeObject(info, kv);
      const mutated = await mutate(structuredClone(current));
      if (mutated === null || typeof mutated !== 'object' || Array.isArray(mutated)) throw apiErrors.badRequest('the update did not produce an object');
      const precondition = mutated.metadata?.resourceVersion;
      if (precondition !== undefined && precondition !== '' && precondition !== current.metadata.resourceVersion) {
        throw conflict(info, name);
      }
      const merged = this.nextForUpdate(info, current, mutated, opts.subresource ?? null);
      merged.metadata.resourceVersion = current.metadata.resourceVersion as string;
      const hooks = this.hooksFor(info);
      const plan = hooks === null ? null : await hooks.planUpdate(current, merged, { dryRun: opts.dryRun === true });
      const next = plan?.object ?? merged;
      if (sameStoredState(current, next) || opts.dryRun === true || deletionCompleteFor(info.resource, next)) plan?.settle(false);
      if (sameStoredState(current, next) || opts.dryRun === true) return next;
      if (deletionCompleteFor(info.resource, next)) {
        const removed = await this.access.removeIfUnchanged(info, kv, deadline, hooks?.removalOps(current) ?? []);
        if (removed !== null) return removed;
        continue;
      }
      const hookCompares = plan?.compares ?? [];
      const result = await settling(plan, this.access.write((options) => this.client.txn(
        [{ key, target: 'modRevision', op: 'equal', value: kv.modRevision }, ...hookCompares],
        [{ type: 'put', request: { key, value: encodeObject(next) } }, ...(plan?.ops ?? [])],
        hookCompares.map((compare) => ({ type: 'range' as const, request: { key: compare.key } })), options,
      ), deadline));
      if (result.succeeded) return { ...next, metadata: { ...next.metadata, resourceVersion: String(result.revision) } };
      // A lost address is planned again on the next round; `lost` throws for one the client named.
      if (plan !== null) hookLost(plan, result.responses);
    }
    throw conflict(info, name);
  }

  /**
   * Kubernetes' delete: the propagation policy becomes the object's GC finalizer (deletion-policy.ts);
   * an object left with finalizers is marked (deletionTimestamp) and stays until the last one is
   * removed, one without is removed now. A namespace is first marked Terminating, whatever its
   * finalizers: its content goes through the namespace controller. A pod running on a node is
   * marked with a grace period instead and stays until its agent deletes it with grace 0; a
   * delete while it terminates may only shorten the grace (and changes nothing else).
   */
  async delete(info: ResourceInfo, namespace: string | null, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    if (info.resource === 'namespaces' && protectedNamespaces.includes(name)) {
      throw apiErrors.forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    const requested = isPropagationPolicy(opts.propagationPolicy) ? opts.propagationPolicy : undefined;
    const key = objectKey(info, namespace, name);
    const deadline = this.access.writeDeadline();
    for (let attempt = 0; attempt < objectStoreLimits.updateAttemptsMax; attempt++) {
      const kv = await this.access.read(key, 'linearizable', deadline);
      if (kv === null) throw apiErrors.notFound(info.resource, info.group, name);
      const current = decodeObject(info, kv);
      checkPreconditions(info, current, opts.preconditions);
      if (info.resource === 'namespaces' && current.metadata.deletionTimestamp !== undefined && namespaceSpecFinalizers(current).length > 0) {
        // Kubernetes' answer to deleting a namespace again while its content is being removed.
        throw apiErrors.conflict('namespaces', '', name,
          'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
      }
      const grace = planGracefulDeletion(info.resource, current, opts.gracePeriodSeconds, this.wallClockMs());
      if (grace.kind === 'pending') return { object: current, deleted: false };
      const finalizers = finalizersForDeletion(current, effectivePolicy(current, requested));
      const firstNamespaceDelete = info.resource === 'namespaces' && current.metadata.deletionTimestamp === undefined;
      const held = finalizers.length > 0 || (info.resource === 'namespaces' && namespaceSpecFinalizers(current).length > 0);
      const graceful = grace.kind === 'mark' && grace.gracePeriodSeconds > 0;
      if (held || firstNamespaceDelete || graceful) {
        const next = this.markedForDeletion(info, current, finalizers, grace);
        if (opts.dryRun === true || sameStoredState(current, next)) return { object: next, deleted: false };
        const marked = await this.access.putIfUnchanged(info, kv, next, deadline);
        if (marked !== null) return { object: marked, deleted: false };
        continue;
      }
      if (opts.dryRun === true) return { object: current, deleted: true };
      const removed = await this.access.removeIfUnchanged(info, kv, deadline, this.hooksFor(info)?.removalOps(current) ?? []);
      if (removed !== null) return { object: removed, deleted: true };
    }
    throw conflict(info, name);
  }

  /** Deletes every matching object (each as `delete` would); returns what was deleted or marked. */
  async deleteCollection(info: ResourceInfo, namespace: string | null, opts: ListOptions & DeleteOptions = {}): Promise<ListResult> {
    const { limit: _limit, continue: _continue, ...listOptions } = opts;
    const listed = await this.list(info, namespace, listOptions);
    const items: KubeObject[] = [];
    for (const object of listed.items) {
      try {
        const result = await this.delete(info, object.metadata.namespace ?? null, object.metadata.name ?? '', {
          dryRun: opts.dryRun, propagationPolicy: opts.propagationPolicy, gracePeriodSeconds: opts.gracePeriodSeconds,
        });
        items.push(result.object);
      } catch (error) {
        // Deleted concurrently: it is gone, which is what was asked.
        if (!(error instanceof ApiError && error.httpStatus === 404)) throw error;
      }
    }
    return { items, resourceVersion: listed.resourceVersion };
  }

  watch(info: ResourceInfo, namespace: string | null, opts: WatchOptions, sink: WatchSink): Promise<{ stop(): void }> {
    return startObjectWatch({
      info, namespace, options: opts, sink, client: this.client, clock: this.options.clock,
      list: (listOptions) => this.list(info, namespace, listOptions),
    });
  }

  /**
   * A create whose write timed out may have landed: one short linearizable read decides it. Found
   * with the uid this create generated, it did (the client's retry would otherwise meet its own
   * object as AlreadyExists); anything else keeps the 504.
   */
  private async landedDespiteTimeout<T>(info: ResourceInfo, key: string, stored: KubeObject, write: Promise<T>): Promise<T | { landed: KubeObject }> {
    try {
      return await write;
    } catch (error) {
      if (!(error instanceof ApiError) || error.httpStatus !== 504 || stored.metadata.uid === undefined) throw error;
      const kv = await this.access.read(key, 'linearizable', this.options.clock.now() + objectStoreLimits.createReadBackMs).catch(() => null);
      if (kv === null) throw error;
      const found = decodeObject(info, kv);
      if (found.metadata.uid !== stored.metadata.uid) throw error;
      return { landed: found };
    }
  }

  private hooksFor(info: ResourceInfo): ResourceWriteHooks | null {
    return info.group === '' ? this.options.writeHooks?.[info.resource] ?? null : null;
  }

  private prepareCreate(info: ResourceInfo, namespace: string | null, object: KubeObject): KubeObject {
    if (object === null || typeof object !== 'object' || object.metadata === null || typeof object.metadata !== 'object') {
      throw apiErrors.badRequest('the object has no metadata');
    }
    const prepared: KubeObject = structuredClone(object);
    const meta = prepared.metadata;
    if (info.namespaced) {
      const target = namespace ?? meta.namespace;
      if (target === undefined || target === '') throw apiErrors.badRequest('a namespace is required to create this resource');
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== target) {
        throw apiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = target;
    } else {
      delete meta.namespace;
    }
    if ((meta.name === undefined || meta.name === '') && (meta.generateName === undefined || meta.generateName === '')) {
      throw apiErrors.invalid(info.kind, info.group, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'name or generateName is required' }]);
    }
    checkKeySegment(info, 'metadata.name', meta.name !== undefined && meta.name !== '' ? meta.name : meta.generateName);
    if (info.namespaced) checkKeySegment(info, 'metadata.namespace', meta.namespace);
    for (const field of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete meta[field];
    meta.uid = this.access.uuid();
    meta.creationTimestamp = rfc3339Seconds(this.wallClockMs());
    meta.generation = 1;
    prepared.apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
    prepared.kind = info.kind;
    if (info.resource === 'namespaces' && (prepared['status'] as { phase?: string } | undefined)?.phase === undefined) {
      prepared['status'] = { ...(prepared['status'] as object | undefined), phase: 'Active' };
    }
    return prepared;
  }

  /**
   * The namespace's stored state for a create in it: 404 for a missing namespace (the defaults are
   * created on demand), 403 for a terminating one.
   */
  private async requireWritableNamespace(name: string, deadline: number, opts: { consistency: Consistency; refused: string }): Promise<{ readonly modRevision: number }> {
    const { consistency } = opts;
    if (consistency === 'serializable') {
      const seen = this.options.namespaces?.(name);
      const modRevision = Number(seen?.metadata.resourceVersion);
      // Only an Active one: anything else (terminating, unknown) is read, for the store's own answer and message.
      if (seen !== undefined && seen.metadata.deletionTimestamp === undefined && Number.isSafeInteger(modRevision) && modRevision > 0) return { modRevision };
    }
    // The member's own state first: the create's txn compares the namespace key's modRevision, so
    // a stale read costs a retry at quorum, never a create in a terminating namespace. Only an
    // apparently missing namespace costs a quorum read (this member may not have applied its
    // creation yet).
    const key = objectKey(namespaceInfo, null, name);
    let kv = await this.access.read(key, consistency, deadline) ?? (consistency === 'linearizable' ? null : await this.access.read(key, 'linearizable', deadline));
    if (kv === null && (defaultNamespaces as readonly string[]).includes(name)) kv = await this.ensureNamespace(name, deadline);
    if (kv === null) throw apiErrors.notFound('namespaces', '', name);
    const namespace = decodeObject(namespaceInfo, kv);
    if (namespace.metadata.deletionTimestamp !== undefined) {
      throw apiErrors.forbidden(`${opts.refused} is forbidden: unable to create new content in namespace ${name} because it is being terminated`);
    }
    return kv;
  }

  private async ensureNamespace(name: string, deadline = this.access.writeDeadline()): Promise<KeyValue | null> {
    const key = objectKey(namespaceInfo, null, name);
    const existing = await this.access.read(key, 'linearizable', deadline);
    if (existing !== null) return existing;
    const object = this.prepareCreate(namespaceInfo, null, {
      apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
    });
    // Another server creating it at the same time is fine: either write leaves the namespace there.
    await this.access.write((options) => this.client.txn([{ key, target: 'version', op: 'equal', value: 0 }], [{ type: 'put', request: { key, value: encodeObject(object) } }], [], options), deadline);
    return this.access.read(key, 'linearizable', deadline);
  }

  /**
   * The object with its deletion marks: the finalizers a delete leaves, a deletionTimestamp (kept
   * once set) and grace period, or those a graceful pod deletion plans.
   */
  private markedForDeletion(info: ResourceInfo, current: KubeObject, finalizers: string[], grace: GracePlan): KubeObject {
    const metadata = { ...current.metadata, deletionTimestamp: current.metadata.deletionTimestamp ?? rfc3339Seconds(this.wallClockMs()) };
    metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds ?? 0;
    if (grace.kind === 'mark') {
      metadata.deletionTimestamp = rfc3339Seconds(grace.deletionTimestampMs);
      metadata.deletionGracePeriodSeconds = grace.gracePeriodSeconds;
    }
    if (finalizers.length > 0) metadata.finalizers = finalizers;
    else delete metadata.finalizers;
    const next: KubeObject = { ...current, metadata };
    if (info.resource === 'namespaces') next['status'] = { ...(current['status'] as object | undefined), phase: 'Terminating' };
    return next;
  }

  /** The stored state an update produces, with the namespace rules: only `finalize` changes spec.finalizers. */
  private nextForUpdate(info: ResourceInfo, current: KubeObject, mutated: KubeObject, subresource: 'status' | 'finalize' | null): KubeObject {
    if (subresource === 'finalize') {
      if (info.resource !== 'namespaces') throw apiErrors.notFound(info.resource, info.group, current.metadata.name ?? '');
      return finalizeNamespace(current, mutated);
    }
    return mergeForUpdate(info, current, info.resource === 'namespaces' && subresource === null ? keepNamespaceFinalizers(current, mutated) : mutated, subresource);
  }

}

function conflict(info: ResourceInfo, name: string, reason = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return apiErrors.conflict(info.resource, info.group, name, reason);
}

/**
 * Names become key segments: one that is not a string, or holds `/` or NUL, could land under
 * another object's prefix. Validation rejects these first with better messages; this is the
 * store's own guarantee.
 */
function checkKeySegment(info: ResourceInfo, field: string, value: unknown): void {
  if (typeof value === 'string' && value !== '.' && value !== '..' && !/[/\u0000]/.test(value)) return;
  throw apiErrors.invalid(info.kind, info.group, typeof value === 'string' ? value : '', [
    { reason: 'FieldValueInvalid', field, message: 'must be a string without "/" and not "." or ".."' },
  ]);
}

function checkPreconditions(info: ResourceInfo, current: KubeObject, preconditions: DeleteOptions['preconditions']): void {
  const name = current.metadata.name ?? '';
  if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
    throw apiErrors.conflict(info.resource, info.group, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
    throw apiErrors.conflict(info.resource, info.group, name,
      `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
  }
}

/** RFC 3339 in UTC at second precision, as Kubernetes writes timestamps. */
export function rfc3339Seconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
