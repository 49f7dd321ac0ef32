/**
 * `ApiClient` over NATS: every request goes to `kubus.<cluster>.api` (any member's NATS front)
 * with the component's bearer token, so loops pass through the same authentication, RBAC,
 * admission and validation as kubectl does.
 *
 * Decision: a 429 is retried here, after its Retry-After (clamped), a bounded number of times, as
 * client-go does for every request; other failures go to the caller typed (api-errors.ts), since
 * only the loop knows whether a 409 means "re-read" or "already done".
 */
import type { Bus } from '../../../bus/transport.js';
import type { Clock } from '../../../bus/clock.js';
import { callApiOverNats, type ApiNatsResponse } from '../../apiserver/nats-front.js';
import { watchApiOverNats } from '../../apiserver/nats-watch-client.js';
import type { KubeObject } from '../../objects/meta.js';
import { ApiStatusError, apiStatusError } from './api-errors.js';
import { query, resourcePath } from './api-paths.js';
import { runtimeLimits } from './limits.js';
import type {
  ApiClient, DeleteOptions, ListOptions, ListResult, PatchType, ResourceRef, WatchHandle, WatchHandlers, WatchOptions, WriteOptions,
} from './types.js';

export interface NatsApiClientOptions {
  readonly bus: Bus;
  readonly cluster: string;
  readonly token: string;
  readonly clock: Clock;
  /** The inbox owner token watch frames arrive on: the component's NATS user name (its permissions allow only that). */
  readonly inboxOwner: string;
  readonly requestTimeoutMs?: number;
  /** Picks the server-side watch timeout in [min, max] (seconds); injected so tests are deterministic. */
  readonly random?: () => number;
}

const patchContentTypes: Readonly<Record<PatchType, string>> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export class NatsApiClient implements ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: NatsApiClientOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? runtimeLimits.requestTimeoutMs;
  }

  async get<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, options: { readonly subresource?: string } = {}): Promise<T> {
    return (await this.request('GET', resourcePath(resource, namespace, name, options.subresource))) as T;
  }

  async list<T = KubeObject>(resource: ResourceRef, options: ListOptions = {}): Promise<ListResult<T>> {
    const path = resourcePath(resource, options.namespace) + query({
      labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.limit,
      continue: options.continue, resourceVersion: options.resourceVersion,
    });
    const body = (await this.request('GET', path)) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const next = body.metadata?.continue;
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '', ...(next !== undefined && next !== '' ? { continue: next } : {}) };
  }

  async create<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, body: unknown, options: WriteOptions & { readonly name?: string } = {}): Promise<T> {
    const path = resourcePath(resource, namespace, options.name, options.subresource) + writeQuery(options);
    return (await this.request('POST', path, body)) as T;
  }

  async update<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return (await this.request('PUT', resourcePath(resource, namespace, name, options.subresource) + writeQuery(options), body)) as T;
  }

  async patch<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, options: WriteOptions = {}): Promise<T> {
    const path = resourcePath(resource, namespace, name, options.subresource) + writeQuery(options);
    return (await this.request('PATCH', path, patch, patchContentTypes[type])) as T;
  }

  async delete(resource: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<void> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...options };
    await this.request('DELETE', resourcePath(resource, namespace, name), body);
  }

  async watch<T = KubeObject>(resource: ResourceRef, options: WatchOptions, handlers: WatchHandlers<T>): Promise<WatchHandle> {
    const { watchTimeoutSecondsMin: min, watchTimeoutSecondsMax: max } = runtimeLimits;
    const timeoutSeconds = min + Math.floor((this.options.random ?? Math.random)() * (max - min + 1));
    const path = resourcePath(resource, options.namespace) + query({
      watch: 1, resourceVersion: options.resourceVersion, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector,
      allowWatchBookmarks: options.allowWatchBookmarks === true ? 'true' : undefined, timeoutSeconds,
    });
    let ended = false;
    // Early frames are delivered before watchApiOverNats resolves: an ERROR among them closes the watch once we hold it.
    let handle: { close(): void } | null = null;
    const stop = (): void => {
      ended = true;
      handle?.close();
    };
    const end = (error?: Error): void => {
      if (ended) return;
      ended = true;
      handlers.onEnd(error);
    };
    const watch = await watchApiOverNats(this.options.bus, this.options.cluster, { method: 'GET', path, headers: this.headers() }, {
      onEvent: (event) => {
        if (ended) return;
        if (event.type === 'ERROR') {
          const status = event.object as { code?: unknown };
          const code = typeof status?.code === 'number' ? status.code : 500;
          stop();
          return end(apiStatusError(code, event.object));
        }
        handlers.onEvent(event.type as 'ADDED', event.object as T);
      },
      onEnd: ({ error }) => end(error),
    }, { inboxOwner: this.options.inboxOwner, timeoutMs: this.timeoutMs, clock: this.options.clock, renewEveryMs: runtimeLimits.watchRenewEveryMs });
    handle = watch;
    if (watch.status !== 200) throw apiStatusError(watch.status, parseBody(watch.body), watch.headers);
    if (ended) watch.close();
    return { stop };
  }

  private headers(contentType?: string): Record<string, string> {
    return {
      Authorization: `Bearer ${this.options.token}`,
      Accept: 'application/json',
      ...(contentType !== undefined ? { 'Content-Type': contentType } : {}),
    };
  }

  /** One request; 429 retried after Retry-After; a non-2xx answer thrown typed. */
  private async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const encoded = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
    for (let attempt = 0; ; attempt++) {
      const reply: ApiNatsResponse = await callApiOverNats(this.options.bus, this.options.cluster, {
        method, path, headers: this.headers(encoded !== undefined ? contentType : undefined), ...(encoded !== undefined ? { body: encoded } : {}),
      }, this.timeoutMs);
      const parsed = parseBody(reply.body);
      if (reply.status >= 200 && reply.status < 300) return parsed;
      const error = apiStatusError(reply.status, parsed, reply.headers);
      if (reply.status !== 429 || attempt >= runtimeLimits.tooManyRequestsRetriesMax) throw error;
      await sleep(this.options.clock, retryDelayMs(error));
    }
  }
}

/** The wait a 429 asks for: its Retry-After, at least 100 ms, clamped to the bound. */
export function retryDelayMs(error: ApiStatusError): number {
  const seconds = error.retryAfterSeconds ?? 1;
  return Math.min(runtimeLimits.retryAfterMsMax, Math.max(100, seconds * 1000));
}

function writeQuery(options: WriteOptions): string {
  return query({ dryRun: options.dryRun === true ? 'All' : undefined, fieldManager: options.fieldManager });
}

function parseBody(body: Uint8Array | undefined): unknown {
  if (body === undefined || body.byteLength === 0) return {};
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return {};
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
