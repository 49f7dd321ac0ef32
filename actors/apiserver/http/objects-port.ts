/**
 * What the HTTP front needs from object storage: the methods of the registry's ObjectStore
 * (api brief Q1), named here structurally so the front can be tested against a fake and does not
 * depend on the store's internals.
 */
import { ApiError } from '../status.js';
import type { ResourceInfo } from '../registry/resources.js';
import type { KubeObject } from '../types.js';

/**
 * A condition admission puts on a write: it commits only if the object at `key` is still at
 * `modRevision`, and then `next` is written there in the same store transaction. ResourceQuota
 * uses it on the quota object, so two creates that both saw room under a quota cannot both land.
 */
export interface WriteGuard {
  readonly key: string;
  readonly modRevision: number;
  readonly next: KubeObject;
}

/** A guarded write lost its race: the guarded object changed since admission read it. Admit again. */
export class WriteGuardConflictError extends ApiError {
  constructor(readonly key: string) {
    super(409, 'Conflict', `Operation cannot be fulfilled on ${key}: it changed while the request was admitted; please retry`);
  }
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchRequest {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchSink {
  event(e: { type: WatchEventType; object: unknown }): void;
  close(error?: ApiError): void;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun?: boolean;
}

export interface UpdateOptions {
  subresource?: 'status' | 'finalize' | null;
  dryRun?: boolean;
}

export interface ObjectStorage {
  create(info: ResourceInfo, namespace: string | null, object: KubeObject, opts?: { dryRun?: boolean; guards?: readonly WriteGuard[] }): Promise<KubeObject>;
  get(info: ResourceInfo, namespace: string | null, name: string, opts?: { resourceVersion?: string | undefined }): Promise<KubeObject>;
  list(info: ResourceInfo, namespace: string | null, opts: ListOptions): Promise<ListResult>;
  update(info: ResourceInfo, namespace: string | null, name: string, object: KubeObject, opts: UpdateOptions): Promise<KubeObject>;
  guaranteedUpdate(
    info: ResourceInfo, namespace: string | null, name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>, opts: UpdateOptions,
  ): Promise<KubeObject>;
  delete(info: ResourceInfo, namespace: string | null, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }>;
  deleteCollection(info: ResourceInfo, namespace: string | null, opts: ListOptions): Promise<unknown>;
  watch(info: ResourceInfo, namespace: string | null, opts: WatchRequest, sink: WatchSink): Promise<{ stop(): void }>;
}
