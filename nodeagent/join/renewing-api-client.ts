/**
 * The agent's `ApiClient`: a NatsApiClient with the node's newest API token. The token expires
 * (node credentials, 2/3-life renewal), and NatsApiClient takes its token once, so on renewal a new
 * one replaces it; calls in flight finish with the old token (still valid: renewal comes before
 * expiry), watches end at their next renewal and their owner re-watches through the new one.
 */
import type { Bus } from '../../bus/transport.js';
import type { Clock } from '../../bus/clock.js';
import { NatsApiClient } from '../../actors/controllers/runtime/api-client.js';
import type {
  ApiClient, DeleteOptions, ListOptions, ListResult, PatchType, ResourceRef, WatchHandle, WatchHandlers, WatchOptions, WriteOptions,
} from '../../actors/controllers/runtime/types.js';
import type { KubeObject } from '../../actors/objects/meta.js';

export class RenewingApiClient implements ApiClient {
  private current: NatsApiClient;

  constructor(private readonly options: { readonly bus: Bus; readonly cluster: string; readonly clock: Clock; readonly inboxOwner: string; readonly token: string }) {
    this.current = this.clientWith(options.token);
  }

  setToken(token: string): void {
    this.current = this.clientWith(token);
  }

  private clientWith(token: string): NatsApiClient {
    const { bus, cluster, clock, inboxOwner } = this.options;
    return new NatsApiClient({ bus, cluster, clock, inboxOwner, token });
  }

  get<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, options?: { readonly subresource?: string }): Promise<T> {
    return this.current.get<T>(resource, namespace, name, options);
  }

  list<T = KubeObject>(resource: ResourceRef, options?: ListOptions): Promise<ListResult<T>> {
    return this.current.list<T>(resource, options);
  }

  create<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, body: unknown, options?: WriteOptions & { readonly name?: string }): Promise<T> {
    return this.current.create<T>(resource, namespace, body, options);
  }

  update<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown, options?: WriteOptions): Promise<T> {
    return this.current.update<T>(resource, namespace, name, body, options);
  }

  patch<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, options?: WriteOptions): Promise<T> {
    return this.current.patch<T>(resource, namespace, name, patch, type, options);
  }

  delete(resource: ResourceRef, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void> {
    return this.current.delete(resource, namespace, name, options);
  }

  watch<T = KubeObject>(resource: ResourceRef, options: WatchOptions, handlers: WatchHandlers<T>): Promise<WatchHandle> {
    return this.current.watch<T>(resource, options, handlers);
  }
}
