/**
 * A shared informer: one cache of one resource, filled by a paginated list and kept current by a
 * watch from the list's resourceVersion (with bookmarks, so a quiet resource still advances it).
 *
 * - A watch that ends (server timeout, a lost stream, a member stopping) is reopened from the last
 *   resourceVersion seen; a 410 (compacted) relists.
 * - A relist replaces the cache and reports the difference: new objects as adds, changed ones as
 *   updates, and objects that vanished while no watch was open as deletes of their last state.
 * - Handlers run synchronously, in registration order, after the cache changed; a handler that
 *   throws is logged and does not stop the others.
 * - Memory is bounded by `objectsMax`: a list beyond it refuses to sync (InformerCapacityError)
 *   and is retried with backoff; a watch that would go beyond it relists, which then refuses.
 */
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { KubusError, type ErrorFields } from '../../../bus/errors.js';
import { matchLabels, parseLabelSelector, selectorMatches, type StructuredLabelSelector } from '../../objects/labels.js';
import { objectKey, type KubeObject } from '../../objects/meta.js';
import { GoneError } from './api-errors.js';
import { CacheIndexes, builtInIndexes, type IndexFunction } from './informer-index.js';
import { runtimeLimits } from './limits.js';
import type { ApiClient, Informer, InformerHandlers, ResourceRef, WatchEventType, WatchHandle } from './types.js';

export class InformerCapacityError extends KubusError {
  override readonly name = 'InformerCapacityError';
  readonly code = 'informerCapacity';
  constructor(readonly resource: string, readonly objectsMax: number) {
    super(`the ${resource} informer would hold more than ${objectsMax} objects (runtimeLimits.informerObjectsMax); it stays unsynced rather than act on a partial view`);
  }
  override fields(): ErrorFields {
    return { resource: this.resource, objectsMax: this.objectsMax };
  }
}

export interface SharedInformerOptions {
  readonly api: ApiClient;
  readonly resource: ResourceRef;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly objectsMax?: number;
  readonly pageSize?: number;
}

export class SharedInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  readonly resource: ResourceRef;
  private readonly cache = new Map<string, T>();
  private readonly indexes = new CacheIndexes<T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private synced = false;
  private running = false;
  /** Bumped on every (re)start of the list/watch cycle: callbacks of an older cycle are ignored. */
  private epoch = 0;
  private lastResourceVersion = '';
  private watchHandle: WatchHandle | null = null;
  private failures = 0;
  private goneInARow = 0;
  private timer: TimerId | null = null;
  private readonly objectsMax: number;
  private readonly name: string;

  constructor(private readonly options: SharedInformerOptions) {
    this.resource = options.resource;
    this.objectsMax = options.objectsMax ?? runtimeLimits.informerObjectsMax;
    this.name = options.resource.group === '' ? options.resource.resource : `${options.resource.resource}.${options.resource.group}`;
    for (const [name, keys] of Object.entries(builtInIndexes)) this.indexes.add(name, keys as IndexFunction<T>, []);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.relist(++this.epoch);
  }

  stop(): void {
    this.running = false;
    this.epoch++;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.watchHandle?.stop();
    this.watchHandle = null;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced (at once if it is). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.indexes.keys(index, value);
    if (keys === undefined) throw new Error(`informer ${this.name}: no index "${index}"`);
    return keys.flatMap((key) => {
      const object = this.cache.get(key);
      return object === undefined ? [] : [object];
    });
  }

  matching(selector: Parameters<Informer<T>['matching']>[0], namespace?: string): T[] {
    const candidates = namespace !== undefined ? this.byIndex('namespace', namespace) : this.list();
    if (typeof selector === 'string') {
      const parsed = parseLabelSelector(selector);
      return candidates.filter((object) => matchLabels(parsed, object.metadata.labels));
    }
    return candidates.filter((object) => selectorMatches(selector as StructuredLabelSelector, object.metadata.labels));
  }

  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.handlers.push(handlers);
    for (const object of this.cache.values()) this.call(handlers, 'onAdd', () => handlers.onAdd?.(object));
    return () => {
      const at = this.handlers.indexOf(handlers);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  /** Names are per informer: a second definition of a name is ignored (loops sharing an index share its meaning). */
  addIndex(name: string, keys: (object: T) => readonly string[]): void {
    if (this.indexes.has(name)) return;
    this.indexes.add(name, keys, this.cache.entries());
  }

  private async relist(epoch: number): Promise<void> {
    let items: T[];
    let resourceVersion: string;
    try {
      ({ items, resourceVersion } = await this.listAll(epoch));
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.options.logger.warn('informer list failed', { resource: this.name, error, failures: this.failures + 1 });
      return this.retry(epoch, () => this.relist(epoch));
    }
    if (epoch !== this.epoch) return;
    this.failures = 0;
    this.replace(items);
    this.lastResourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter();
    }
    await this.watch(epoch);
  }

  private async listAll(epoch: number): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.options.api.list<T>(this.resource, { limit: this.options.pageSize ?? runtimeLimits.listPageSize, ...(next !== undefined ? { continue: next } : {}) });
      if (epoch !== this.epoch) return { items: [], resourceVersion: '' };
      items.push(...page.items);
      if (items.length > this.objectsMax) throw new InformerCapacityError(this.name, this.objectsMax);
      resourceVersion = page.resourceVersion;
      next = page.continue;
    } while (next !== undefined);
    return { items, resourceVersion };
  }

  private async watch(epoch: number): Promise<void> {
    let handle: WatchHandle;
    try {
      handle = await this.options.api.watch<T>(this.resource, { resourceVersion: this.lastResourceVersion, allowWatchBookmarks: true }, {
        onEvent: (type, object) => {
          if (epoch === this.epoch) this.onEvent(epoch, type, object);
        },
        onEnd: (error) => {
          if (epoch === this.epoch) this.onWatchEnd(epoch, error);
        },
      });
    } catch (error) {
      if (epoch !== this.epoch) return;
      return this.onWatchEnd(epoch, error as Error);
    }
    if (epoch !== this.epoch) return handle.stop();
    this.watchHandle = handle;
  }

  private onWatchEnd(epoch: number, error: Error | undefined): void {
    this.watchHandle = null;
    if (error instanceof GoneError) {
      this.options.logger.info('informer watch expired; relisting', { resource: this.name, resourceVersion: this.lastResourceVersion });
      // A 410 right after a relist (no event in between) would spin: the second one in a row waits out the backoff.
      if (this.goneInARow++ === 0) return void this.relist(epoch);
      return this.retry(epoch, () => this.relist(epoch));
    }
    if (error === undefined) return void this.watch(epoch); // the server's timeoutSeconds: reopen at once
    this.options.logger.debug('informer watch ended; resuming', { resource: this.name, resourceVersion: this.lastResourceVersion, error });
    this.retry(epoch, () => this.watch(epoch));
  }

  private onEvent(epoch: number, type: WatchEventType, object: T): void {
    this.failures = 0;
    this.goneInARow = 0;
    const resourceVersion = object?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (resourceVersion !== undefined) this.lastResourceVersion = resourceVersion;
      return;
    }
    if (typeof object?.metadata?.name !== 'string') return;
    const key = objectKey(object);
    const previous = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.indexes.remove(key);
      if (resourceVersion !== undefined) this.lastResourceVersion = resourceVersion;
      return this.dispatch('onDelete', (h) => h.onDelete?.(previous ?? object));
    }
    if (previous === undefined && this.cache.size >= this.objectsMax) {
      this.options.logger.error('informer full', { resource: this.name, error: new InformerCapacityError(this.name, this.objectsMax) });
      this.watchHandle?.stop();
      this.watchHandle = null;
      return this.retry(epoch, () => this.relist(epoch));
    }
    this.store(key, object);
    if (resourceVersion !== undefined) this.lastResourceVersion = resourceVersion;
    if (previous === undefined) this.dispatch('onAdd', (h) => h.onAdd?.(object));
    else this.dispatch('onUpdate', (h) => h.onUpdate?.(previous, object));
  }

  /** A relist's result: the cache becomes exactly `items`, and handlers hear the difference. */
  private replace(items: readonly T[]): void {
    const seen = new Set<string>();
    for (const object of items) {
      const key = objectKey(object);
      seen.add(key);
      const previous = this.cache.get(key);
      if (previous !== undefined && previous.metadata.resourceVersion === object.metadata.resourceVersion) continue;
      this.store(key, object);
      if (previous === undefined) this.dispatch('onAdd', (h) => h.onAdd?.(object));
      else this.dispatch('onUpdate', (h) => h.onUpdate?.(previous, object));
    }
    for (const [key, object] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.indexes.remove(key);
      this.dispatch('onDelete', (h) => h.onDelete?.(object));
    }
  }

  private store(key: string, object: T): void {
    this.cache.set(key, object);
    this.indexes.update(key, object);
  }

  private retry(epoch: number, again: () => Promise<void>): void {
    const delay = Math.min(runtimeLimits.informerBackoffMaxMs, runtimeLimits.informerBackoffInitialMs * 2 ** this.failures);
    this.failures++;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      if (epoch === this.epoch) void again();
    }, delay);
  }

  private dispatch(kind: keyof InformerHandlers<T>, call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of [...this.handlers]) this.call(handlers, kind, () => call(handlers));
  }

  private call(_handlers: InformerHandlers<T>, kind: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.options.logger.error('informer handler threw', { resource: this.name, handler: kind, error });
    }
  }
}
