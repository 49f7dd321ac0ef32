/**
 * An in-memory API and hand-refreshed informers for the volume binder's glue tests: the API keeps
 * Kubernetes' write rules the binder relies on (resourceVersion preconditions answer Conflict,
 * `status` writes touch only status and main writes keep it, AlreadyExists, uid preconditions on
 * delete); the informers hold whatever snapshot the test last took, so a test can make them stale
 * on purpose and see the binder cope.
 */
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { KubeObject } from '../../actors/objects/index.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../actors/controllers/runtime/api-errors.js';
import type {
  ApiClient, ControllerContext, DeleteOptions, Informer, InformerFactory, InformerHandlers, ListResult, ResourceRef, WatchHandle, WorkQueue, WriteOptions,
} from '../../actors/controllers/runtime/types.js';

const keyOf = (resource: ResourceRef, namespace: string | undefined, name: string): string => `${resource.resource}|${namespace ?? ''}/${name}`;

export class FakeApi implements ApiClient {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: string[] = [];
  private revision = 1;
  private uids = 1;

  get<T>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T> {
    const found = this.objects.get(keyOf(resource, namespace, name));
    if (found === undefined) return Promise.reject(new NotFoundError(404, 'NotFound', `${resource.resource} "${name}" not found`, undefined, undefined));
    return Promise.resolve(structuredClone(found) as T);
  }

  list<T>(resource: ResourceRef): Promise<ListResult<T>> {
    const items = [...this.objects.entries()].filter(([k]) => k.startsWith(`${resource.resource}|`)).map(([, o]) => structuredClone(o) as T);
    return Promise.resolve({ items, resourceVersion: String(this.revision) });
  }

  create<T>(resource: ResourceRef, namespace: string | undefined, body: unknown): Promise<T> {
    const object = structuredClone(body) as KubeObject;
    const name = object.metadata.name ?? '';
    const key = keyOf(resource, namespace, name);
    if (this.objects.has(key)) return Promise.reject(new AlreadyExistsError(409, 'AlreadyExists', `${resource.resource} "${name}" already exists`, undefined, undefined));
    object.metadata = { ...object.metadata, uid: object.metadata.uid ?? `uid-${this.uids++}`, resourceVersion: String(++this.revision), ...(namespace !== undefined ? { namespace } : {}) };
    this.objects.set(key, object);
    this.writes.push(`create ${resource.resource}/${name}`);
    return Promise.resolve(structuredClone(object) as T);
  }

  update<T>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    const key = keyOf(resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) return Promise.reject(new NotFoundError(404, 'NotFound', `${resource.resource} "${name}" not found`, undefined, undefined));
    const next = structuredClone(body) as KubeObject;
    const precondition = next.metadata.resourceVersion;
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
      return Promise.reject(new ConflictError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.resource} "${name}": the object has been modified`, undefined, undefined));
    }
    const stored: KubeObject = options.subresource === 'status'
      ? { ...structuredClone(current), status: next['status'] }
      : { ...next, status: current['status'] };
    stored.metadata = { ...(options.subresource === 'status' ? current.metadata : next.metadata), uid: current.metadata.uid ?? '', resourceVersion: String(++this.revision) };
    this.objects.set(key, stored);
    this.writes.push(`update ${resource.resource}/${name}${options.subresource !== undefined ? `/${options.subresource}` : ''}`);
    return Promise.resolve(structuredClone(stored) as T);
  }

  patch<T>(): Promise<T> {
    return Promise.reject(new Error('the binder does not patch'));
  }

  delete(resource: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<void> {
    const key = keyOf(resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) return Promise.reject(new NotFoundError(404, 'NotFound', `${resource.resource} "${name}" not found`, undefined, undefined));
    if (options.preconditions?.uid !== undefined && options.preconditions.uid !== current.metadata.uid) {
      return Promise.reject(new ConflictError(409, 'Conflict', 'Precondition failed: UID', undefined, undefined));
    }
    this.objects.delete(key);
    this.writes.push(`delete ${resource.resource}/${name}`);
    return Promise.resolve();
  }

  watch(): Promise<WatchHandle> {
    return Promise.reject(new Error('the fake informers are refreshed by hand'));
  }

  /** A test's own write, outside the binder (creating claims, volumes and classes). */
  put(resource: ResourceRef, object: KubeObject): Promise<KubeObject> {
    return this.create(resource, object.metadata.namespace, object);
  }
}

export class SnapshotInformer<T extends KubeObject> implements Informer<T> {
  private items = new Map<string, T>();
  private readonly indexes = new Map<string, (object: T) => readonly string[]>();
  constructor(readonly resource: ResourceRef, private readonly api: FakeApi) {}

  /** Takes a fresh snapshot of the fake API's objects of this resource. */
  async refresh(): Promise<void> {
    const { items } = await this.api.list<T>(this.resource);
    this.items = new Map(items.map((o) => [o.metadata.namespace === undefined ? o.metadata.name ?? '' : `${o.metadata.namespace}/${o.metadata.name ?? ''}`, o]));
  }

  hasSynced(): boolean { return true; }
  get(key: string): T | undefined { return this.items.get(key); }
  list(): T[] { return [...this.items.values()]; }
  byIndex(index: string, value: string): T[] {
    const keys = this.indexes.get(index);
    return keys === undefined ? [] : this.list().filter((o) => keys(o).includes(value));
  }
  matching(): T[] { return []; }
  addHandlers(_handlers: InformerHandlers<T>): () => void { return () => undefined; }
  addIndex(name: string, keys: (object: T) => readonly string[]): void { this.indexes.set(name, keys); }
}

export interface RecordedEvent { readonly object: string; readonly type: string; readonly reason: string; readonly message: string }

export class FakeQueue implements WorkQueue {
  readonly added: string[] = [];
  add(key: string): void { this.added.push(key); }
  addAfter(key: string): void { this.added.push(key); }
  addRateLimited(key: string): void { this.added.push(key); }
  forget(): void {}
  numRequeues(): number { return 0; }
  get length(): number { return this.added.length; }
}

const quietLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quietLogger };
const unusedClock: Clock = { now: () => 0, setTimeout: () => { throw new Error('the binder sets no timers'); }, clearTimeout: () => undefined };

export function fakeContext(api: FakeApi): { ctx: ControllerContext; events: RecordedEvent[]; refresh(): Promise<void> } {
  const informers = new Map<string, SnapshotInformer<KubeObject>>();
  const factory: InformerFactory = {
    informer<T extends KubeObject>(resource: ResourceRef): Informer<T> {
      let informer = informers.get(resource.resource);
      if (informer === undefined) {
        informer = new SnapshotInformer<KubeObject>(resource, api);
        informers.set(resource.resource, informer);
      }
      return informer as unknown as Informer<T>;
    },
    waitForSync: () => Promise.resolve(),
  };
  const events: RecordedEvent[] = [];
  const ctx: ControllerContext = {
    api, informers: factory, clock: unusedClock, logger: quietLogger, options: {},
    events: { record: (object, type, reason, message) => { events.push({ object: `${object.kind}/${object.metadata.name ?? ''}`, type, reason, message }); } },
  };
  return { ctx, events, refresh: async () => { for (const informer of informers.values()) await informer.refresh(); } };
}
