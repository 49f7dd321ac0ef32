/**
 * An in-memory copy of one resource kind, kept by list + watch on the object store, as Kubernetes'
 * informers keep theirs: the RBAC and node-graph caches of authorization and the webhook
 * configurations of admission use it. A watch that ends (compaction, a member losing quorum, a
 * store error) is resumed by a fresh list after a doubling, capped delay; the copy is replaced
 * wholesale by each list so deletions missed while disconnected disappear too.
 *
 * Decision: the copy is bounded (`objectsMax`); past the bound new objects are dropped and a
 * warning logged: its users then err towards refusing (a missing binding grants nothing).
 */
import type { Clock, Logger, TimerId } from '../../../bus/index.js';
import type { ResourceInfo } from './resources.js';
import type { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import type { ObjectStorage } from '../http/objects-port.js';

export const watchedCollectionLimits = {
  /**
   * Objects one collection (roles, bindings, pods, webhook configurations) keeps in memory.
   * Kubernetes' own scalability target is 150k pods per cluster; kubus aims at small clusters, so
   * 50k objects of a kind is well above any real use while bounding memory to tens of MB per kind.
   */
  objectsMax: 50_000,
  /** First delay before re-listing after a watch failed: long enough not to spin during an election. */
  resumeDelayMinMs: 250,
  /** Cap of the doubling resume delay: a copy is at most this stale after the store heals. */
  resumeDelayMaxMs: 5_000,
} as const;

export type CollectionSource = Pick<ObjectStorage, 'list' | 'watch'>;

export function objectKeyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

export class WatchedCollection {
  private readonly objects = new Map<string, KubeObject>();
  private stopped = false;
  private synced = false;
  private watcher: { stop(): void } | null = null;
  private timer: TimerId | null = null;
  private delayMs: number = watchedCollectionLimits.resumeDelayMinMs;

  constructor(
    private readonly info: ResourceInfo,
    private readonly options: { readonly source: CollectionSource; readonly clock: Clock; readonly logger: Logger; readonly onChange?: () => void },
  ) {}

  start(): void {
    void this.resync();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
  }

  /** True once the first list has been loaded. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Listed and following the store now: false while its watch is down and it waits to list again (its copy may be stale). */
  get isLive(): boolean {
    return this.synced && this.watcher !== null && !this.stopped;
  }

  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }

  get(namespace: string | null, name: string): KubeObject | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      const listed = await this.options.source.list(this.info, null, {});
      this.objects.clear();
      for (const item of listed.items) this.put(item);
      this.synced = true;
      this.options.onChange?.();
      this.watcher = await this.options.source.watch(this.info, null, { resourceVersion: listed.resourceVersion }, {
        event: (event) => this.apply(event.type, event.object),
        close: (error?: ApiError) => this.resumeLater(error?.message ?? 'watch ended'),
      });
      if (this.stopped) this.watcher.stop();
      this.delayMs = watchedCollectionLimits.resumeDelayMinMs;
    } catch (error) {
      this.resumeLater((error as Error).message);
    }
  }

  private resumeLater(reason: string): void {
    if (this.stopped) return;
    this.watcher = null;
    this.options.logger.debug('watched collection resumes', { resource: this.info.resource, reason, delayMs: this.delayMs });
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.resync();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, watchedCollectionLimits.resumeDelayMaxMs);
  }

  private apply(type: string, object: unknown): void {
    if (object === null || typeof object !== 'object' || !('metadata' in object)) return;
    const kube = object as KubeObject;
    if (type === 'ADDED' || type === 'MODIFIED') this.put(kube);
    else if (type === 'DELETED') this.objects.delete(objectKeyOf(kube));
    else return;
    this.options.onChange?.();
  }

  private put(object: KubeObject): void {
    const key = objectKeyOf(object);
    if (!this.objects.has(key) && this.objects.size >= watchedCollectionLimits.objectsMax) {
      this.options.logger.warn('watched collection full; object ignored', { resource: this.info.resource, key, max: watchedCollectionLimits.objectsMax });
      return;
    }
    this.objects.set(key, object);
  }
}
