/**
 * An in-memory ApiClient for runtime unit tests: objects by resource and key, a resourceVersion
 * counter, optimistic concurrency (an update naming a stale resourceVersion is a 409), paged
 * lists, and watches the test drives (events are delivered as writes happen; `endWatches` ends
 * them with an error, e.g. a 410). `down` makes every call fail, as a partitioned client sees.
 */
import { AlreadyExistsError, ConflictError, GoneError, NotFoundError } from '../../../actors/controllers/runtime/api-errors.js';
import type {
  ApiClient, DeleteOptions, ListOptions, ListResult, ResourceRef, WatchEventType, WatchHandle, WatchHandlers, WatchOptions,
} from '../../../actors/controllers/runtime/types.js';
import { objectKey, type KubeObject } from '../../../actors/objects/meta.js';

interface Watcher {
  readonly resource: string;
  readonly handlers: WatchHandlers<KubeObject>;
  stopped: boolean;
}

export class FakeApi implements ApiClient {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers: Watcher[] = [];
  revision = 0;
  down = false;
  /** Every call, as `verb resource key`. */
  readonly calls: string[] = [];
  /** Watches requested, with the resourceVersion they started from. */
  readonly watchesFrom: string[] = [];
  /** Watches from a resourceVersion at or below this answer 410 (compacted). */
  compactedThrough = -1;

  private table(resource: ResourceRef): Map<string, KubeObject> {
    let table = this.objects.get(resource.resource);
    if (table === undefined) this.objects.set(resource.resource, (table = new Map()));
    return table;
  }

  private check(verb: string, resource: ResourceRef, key: string): void {
    this.calls.push(`${verb} ${resource.resource} ${key}`);
    if (this.down) throw new Error('fake API unreachable');
  }

  async get<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T> {
    const key = keyOf(namespace, name);
    this.check('get', resource, key);
    const object = this.table(resource).get(key);
    if (object === undefined) throw new NotFoundError(404, 'NotFound', `${resource.resource} "${name}" not found`, undefined, undefined);
    return structuredClone(object) as T;
  }

  async list<T = KubeObject>(resource: ResourceRef, options: ListOptions = {}): Promise<ListResult<T>> {
    this.check('list', resource, options.continue ?? '');
    const all = [...this.table(resource).values()].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    const start = Number(options.continue ?? '0');
    const end = options.limit !== undefined ? start + options.limit : all.length;
    const items = all.slice(start, end).map((o) => structuredClone(o) as T);
    return { items, resourceVersion: String(this.revision), ...(end < all.length ? { continue: String(end) } : {}) };
  }

  async create<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, body: unknown): Promise<T> {
    const object = structuredClone(body) as KubeObject;
    const key = keyOf(namespace ?? object.metadata.namespace, object.metadata.name as string);
    this.check('create', resource, key);
    if (this.table(resource).has(key)) throw new AlreadyExistsError(409, 'AlreadyExists', `${key} already exists`, undefined, undefined);
    return this.put(resource, key, { ...object, metadata: { ...object.metadata, ...(namespace !== undefined ? { namespace } : {}), uid: `uid-${key}` } }, 'ADDED') as T;
  }

  async update<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown): Promise<T> {
    const key = keyOf(namespace, name);
    this.check('update', resource, key);
    const current = this.table(resource).get(key);
    if (current === undefined) throw new NotFoundError(404, 'NotFound', `${key} not found`, undefined, undefined);
    const object = structuredClone(body) as KubeObject;
    const expected = object.metadata?.resourceVersion;
    if (expected !== undefined && expected !== current.metadata.resourceVersion) {
      throw new ConflictError(409, 'Conflict', `Operation cannot be fulfilled on ${key}: the object has been modified`, undefined, undefined);
    }
    return this.put(resource, key, object, 'MODIFIED') as T;
  }

  async patch<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, patch: unknown): Promise<T> {
    const key = keyOf(namespace, name);
    this.check('patch', resource, key);
    const current = this.table(resource).get(key);
    if (current === undefined) throw new NotFoundError(404, 'NotFound', `${key} not found`, undefined, undefined);
    return this.put(resource, key, { ...current, ...(patch as object) } as KubeObject, 'MODIFIED') as T;
  }

  async delete(resource: ResourceRef, namespace: string | undefined, name: string, _options?: DeleteOptions): Promise<void> {
    const key = keyOf(namespace, name);
    this.check('delete', resource, key);
    const current = this.table(resource).get(key);
    if (current === undefined) throw new NotFoundError(404, 'NotFound', `${key} not found`, undefined, undefined);
    this.table(resource).delete(key);
    this.revision++;
    this.emit(resource.resource, 'DELETED', { ...current, metadata: { ...current.metadata, resourceVersion: String(this.revision) } });
  }

  async watch<T = KubeObject>(resource: ResourceRef, options: WatchOptions, handlers: WatchHandlers<T>): Promise<WatchHandle> {
    this.check('watch', resource, options.resourceVersion);
    this.watchesFrom.push(options.resourceVersion);
    if (Number(options.resourceVersion) <= this.compactedThrough) throw new GoneError(410, 'Expired', 'too old resource version', undefined, undefined);
    const watcher: Watcher = { resource: resource.resource, handlers: handlers as WatchHandlers<KubeObject>, stopped: false };
    this.watchers.push(watcher);
    return { stop: () => void (watcher.stopped = true) };
  }

  /** Writes without notifying watchers: what happens while no watch is open. */
  putSilently(resource: ResourceRef, object: KubeObject): void {
    this.revision++;
    this.table(resource).set(objectKey(object), { ...object, metadata: { ...object.metadata, resourceVersion: String(this.revision) } });
  }

  deleteSilently(resource: ResourceRef, key: string): void {
    this.revision++;
    this.table(resource).delete(key);
  }

  /** Ends every open watch of `resource` (with `error`, or cleanly as a server timeout). */
  endWatches(resource: ResourceRef, error?: Error): void {
    for (const watcher of [...this.watchers]) {
      if (watcher.resource !== resource.resource || watcher.stopped) continue;
      watcher.stopped = true;
      watcher.handlers.onEnd(error);
    }
  }

  openWatches(resource: ResourceRef): number {
    return this.watchers.filter((w) => w.resource === resource.resource && !w.stopped).length;
  }

  bookmark(resource: ResourceRef): void {
    this.revision++;
    this.emit(resource.resource, 'BOOKMARK', { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: String(this.revision) } });
  }

  private put(resource: ResourceRef, key: string, object: KubeObject, type: WatchEventType): KubeObject {
    this.revision++;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.revision) } };
    this.table(resource).set(key, stored);
    this.emit(resource.resource, type, stored);
    return structuredClone(stored);
  }

  private emit(resource: string, type: WatchEventType, object: KubeObject): void {
    for (const watcher of this.watchers) if (watcher.resource === resource && !watcher.stopped) watcher.handlers.onEvent(type, structuredClone(object));
  }
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/** Lets promise callbacks run (the fake's calls resolve in microtasks). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
