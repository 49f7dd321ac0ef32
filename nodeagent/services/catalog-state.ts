/**
 * The catalog's state, fed by whoever watches the cluster (informers in the agent, a test or a
 * benchmark by hand): Services and their EndpointSlices by Service, the cluster IP index, the
 * resolved endpoint lists memoized per Service until it changes, and the change feed.
 *
 * Decision: changes are announced once per microtask with every Service touched meanwhile, so a
 * relist of thousands of objects costs the proxy one pass, not one per object.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { CatalogEntry, ResolvedEndpoint, ServiceCatalog, ServiceKey, ServiceProtocol } from './catalog.js';
import { resolveEndpoints, serviceNameLabel } from './endpoint-merge.js';
import { catalogLimits } from './limits.js';

export const serviceKeyString = (key: ServiceKey): string => `${key.namespace}/${key.name}`;

function keyOf(text: string): ServiceKey {
  const at = text.indexOf('/');
  return { namespace: text.slice(0, at), name: text.slice(at + 1) };
}

const emptySlices: readonly EndpointSlice[] = Object.freeze([]);

export class CatalogState {
  private readonly services = new Map<string, Service>();
  /** Service key → slice name → slice (a slice may arrive before its Service, and outlive it briefly). */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly clusterIps = new Map<string, string>();
  private readonly memo = new Map<string, Map<string, readonly ResolvedEndpoint[]>>();
  private readonly entryMemo = new Map<string, CatalogEntry>();
  private readonly listeners = new Set<(changed: readonly ServiceKey[]) => void>();
  private pending = new Set<string>();
  private flushQueued = false;

  upsertService(service: Service): void {
    const key = serviceKeyString({ namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' });
    const previous = this.services.get(key);
    if (previous !== undefined) this.unindex(key, previous);
    this.services.set(key, service);
    for (const ip of clusterIpsOf(service)) this.clusterIps.set(ip, key);
    this.changed(key);
  }

  removeService(service: Service): void {
    const key = serviceKeyString({ namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' });
    const previous = this.services.get(key);
    if (previous === undefined) return;
    this.unindex(key, previous);
    this.services.delete(key);
    this.changed(key);
  }

  upsertSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice);
    if (key === undefined) return;
    let byName = this.slices.get(key);
    if (byName === undefined) this.slices.set(key, (byName = new Map()));
    byName.set(slice.metadata?.name ?? '', slice);
    this.changed(key);
  }

  removeSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice);
    if (key === undefined) return;
    const byName = this.slices.get(key);
    if (byName?.delete(slice.metadata?.name ?? '') !== true) return;
    if (byName.size === 0) this.slices.delete(key);
    this.changed(key);
  }

  get(key: ServiceKey): CatalogEntry | undefined {
    return this.entry(serviceKeyString(key));
  }

  *entries(): Iterable<CatalogEntry> {
    for (const key of this.services.keys()) {
      const entry = this.entry(key);
      if (entry !== undefined) yield entry;
    }
  }

  byClusterIp(ip: string): CatalogEntry | undefined {
    const key = this.clusterIps.get(ip);
    return key === undefined ? undefined : this.entry(key);
  }

  endpointsFor(key: ServiceKey, portName: string, protocol: ServiceProtocol): readonly ResolvedEndpoint[] {
    const text = serviceKeyString(key);
    const byName = this.slices.get(text);
    if (byName === undefined) return [];
    let perService = this.memo.get(text);
    if (perService === undefined) this.memo.set(text, (perService = new Map()));
    const memoKey = `${protocol}/${portName}`;
    const known = perService.get(memoKey);
    if (known !== undefined) return known;
    if (perService.size >= catalogLimits.memoPerServiceMax) perService.clear();
    const resolved = Object.freeze(resolveEndpoints([...byName.values()], portName, protocol));
    perService.set(memoKey, resolved);
    return resolved;
  }

  subscribe(listener: (changed: readonly ServiceKey[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Drops every subscriber (the catalog stopped). */
  close(): void {
    this.listeners.clear();
  }

  /** Built once per change of the Service (the proxy asks on every new connection). */
  private entry(key: string): CatalogEntry | undefined {
    const known = this.entryMemo.get(key);
    if (known !== undefined) return known;
    const service = this.services.get(key);
    if (service === undefined) return undefined;
    const byName = this.slices.get(key);
    const built: CatalogEntry = { service, slices: byName === undefined ? emptySlices : Object.freeze([...byName.values()]) };
    this.entryMemo.set(key, built);
    return built;
  }

  private unindex(key: string, service: Service): void {
    for (const ip of clusterIpsOf(service)) if (this.clusterIps.get(ip) === key) this.clusterIps.delete(ip);
  }

  private changed(key: string): void {
    this.memo.delete(key);
    this.entryMemo.delete(key);
    this.pending.add(key);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    const keys = [...this.pending].map(keyOf);
    this.pending = new Set();
    // Every subscriber hears the change even if one throws; the first error is then rethrown (a bug, not an operating error).
    let failure: { error: unknown } | null = null;
    for (const listener of [...this.listeners]) {
      try {
        listener(keys);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
  }
}

/** Every cluster IP of a Service (`spec.clusterIPs`, else `spec.clusterIP`), without `None`. */
export function clusterIpsOf(service: Service): string[] {
  const ips = service.spec?.clusterIPs ?? (service.spec?.clusterIP !== undefined ? [service.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}

function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.[serviceNameLabel];
  if (name === undefined) return undefined;
  return serviceKeyString({ namespace: slice.metadata?.namespace ?? 'default', name });
}

/** The catalog's read side over a state, for a state someone else keeps current. */
export function catalogOver(state: CatalogState, lifecycle: Pick<ServiceCatalog, 'synced' | 'waitForSync' | 'stop'>): ServiceCatalog {
  return {
    synced: () => lifecycle.synced(),
    waitForSync: (timeoutMs) => lifecycle.waitForSync(timeoutMs),
    get: (key) => state.get(key),
    entries: () => state.entries(),
    byClusterIp: (ip) => state.byClusterIp(ip),
    endpointsFor: (key, portName, protocol) => state.endpointsFor(key, portName, protocol),
    subscribe: (listener) => state.subscribe(listener),
    stop: () => lifecycle.stop(),
  };
}
