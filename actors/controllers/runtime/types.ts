/**
 * The contract between the controller runtime and the loops that run on it (controllers, the
 * scheduler, the cloud controller manager): what a loop may use (an API client over NATS, shared
 * informers, a work queue, an event recorder, the clock) and what it provides (a spec: which
 * informers it watches, how events become keys, how a key is reconciled). The runtime turns each
 * spec into an XState actor, active only while its component holds its Lease.
 *
 * Decision: loops see the cluster only through `ApiClient` (the API over NATS, with the component's
 * token), never the store, exactly as the mission demands of every component.
 */
import type { Clock } from '../../../bus/clock.js';
import type { Bus } from '../../../bus/transport.js';
import type { Logger } from '../../../bus/logger.js';
import type { KubeObject } from '../../objects/meta.js';

/** A resource as the API addresses it: `{ group: 'apps', version: 'v1', resource: 'deployments', namespaced: true }`. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespaced: boolean;
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
  readonly continue?: string;
}

export interface WriteOptions {
  /** `status`, `scale`, `binding`, `eviction`, `finalize`, ... */
  readonly subresource?: string;
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
}

export interface DeleteOptions {
  readonly propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export type PatchType = 'merge' | 'strategic' | 'json';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions {
  readonly namespace?: string;
  readonly resourceVersion: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowWatchBookmarks?: boolean;
}

export interface WatchHandlers<T> {
  onEvent(type: WatchEventType, object: T): void;
  /** Once, when the stream ends other than by `stop()`; `error` is an ApiStatusError 410 when the resourceVersion is too old. */
  onEnd(error?: Error): void;
}

export interface WatchHandle {
  stop(): void;
}

/**
 * The Kubernetes API over NATS. Every failure is typed (runtime/api-errors.ts): ApiStatusError with
 * the Status code and reason, subclasses for 404, 409 (Conflict / AlreadyExists), 410, 422, 429
 * (carrying `retryAfterSeconds`); transport failures are the bus's own typed errors.
 */
export interface ApiClient {
  get<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, options?: { readonly subresource?: string }): Promise<T>;
  list<T = KubeObject>(resource: ResourceRef, options?: ListOptions): Promise<ListResult<T>>;
  /** `name` is needed only for subresources (`binding`, `eviction`) of an existing object. */
  create<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, body: unknown, options?: WriteOptions & { readonly name?: string }): Promise<T>;
  update<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown, options?: WriteOptions): Promise<T>;
  patch<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, options?: WriteOptions): Promise<T>;
  delete(resource: ResourceRef, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void>;
  watch<T = KubeObject>(resource: ResourceRef, options: WatchOptions, handlers: WatchHandlers<T>): Promise<WatchHandle>;
}

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, next: T): void;
  /** `object` is the last known state (a relist that no longer finds it reports that). */
  onDelete?(object: T): void;
}

/**
 * A shared informer: one list + watch per resource for every loop of a process, resuming from the
 * last resourceVersion and relisting on 410. Keys are `namespace/name` (objectKey). Built-in
 * indexes: `namespace`, `nodeName` (pods' spec.nodeName), `owner` (every ownerReference uid).
 */
export interface Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  hasSynced(): boolean;
  get(key: string): T | undefined;
  list(): T[];
  byIndex(index: 'namespace' | 'nodeName' | 'owner' | string, value: string): T[];
  /** Objects whose labels a structured or string selector selects (namespace-scoped when given). */
  matching(selector: { readonly matchLabels?: Record<string, string>; readonly matchExpressions?: readonly unknown[] } | string, namespace?: string): T[];
  /** Registers handlers; objects already in the cache are replayed as onAdd. Returns an unsubscribe. */
  addHandlers(handlers: InformerHandlers<T>): () => void;
  /** An extra index by a key function (e.g. pods by PVC name); must be added before start. */
  addIndex(name: string, keys: (object: T) => readonly string[]): void;
}

export interface InformerFactory {
  informer<T extends KubeObject = KubeObject>(resource: ResourceRef): Informer<T>;
  /** Resolves when every informer requested so far has synced, or rejects at the deadline. */
  waitForSync(timeoutMs: number): Promise<void>;
}

/**
 * A rate-limited work queue of keys: a key queued twice is queued once; a key being worked on is
 * not handed to a second worker until `done`; per-key backoff on `addRateLimited`.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  addRateLimited(key: string): void;
  forget(key: string): void;
  numRequeues(key: string): number;
  readonly length: number;
}

export interface EventRecorder {
  /** A Kubernetes Event about `object` (`Normal` or `Warning`); best effort, never throws, aggregated by (object, reason, message). */
  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ControllerContext {
  readonly api: ApiClient;
  /**
   * The component's own NATS connection and cluster name, for the few loops that own a subject
   * rather than an API resource (the assignment relay publishes on `node.<N>.assign`).
   */
  readonly bus?: Bus;
  readonly cluster?: string;
  readonly informers: InformerFactory;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Flags of the controller manager (`--node-monitor-grace-period`, `--cluster-cidr`, ...), by camelCase name. */
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
}

/** What reconcile may ask for besides success: try the key again after a delay (not a failure). */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/**
 * One controller. The runtime builds the informers' handlers through `watch`, runs `workers`
 * reconcilers over the queue (one per key at a time), retries a thrown error with backoff up to
 * `maxRetries` and then records a Warning Event and drops the key.
 */
export interface ControllerSpec {
  /** As in `--controllers` (`replicaset`, `deployment`, `nodelifecycle`, ...). */
  readonly name: string;
  readonly workers?: number;
  readonly maxRetries?: number;
  /** The resource its keys name (`refs.deployments`): the give-up Event is recorded on that object. */
  readonly resource?: ResourceRef;
  /** Subscribe to informers and enqueue keys; returns a cleanup. Called when the controller becomes active. */
  watch(ctx: ControllerContext, queue: WorkQueue): (() => void) | void;
  reconcile(key: string, ctx: ControllerContext, queue: WorkQueue): Promise<ReconcileResult | void>;
}
