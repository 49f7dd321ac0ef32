/**
 * The DNS tests' catalog: the services folder's memory catalog (the same state and endpoint
 * merge as the informer catalog a node runs), plus a switch for "never synced", which the memory
 * catalog cannot be. Builders for plain Services and EndpointSlices.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { createMemoryCatalog, serviceNameLabel, type CatalogEntry, type ResolvedEndpoint, type ServiceCatalog, type ServiceKey, type ServiceProtocol } from '../../../nodeagent/services/index.js';

export class FakeCatalog implements ServiceCatalog {
  private readonly memory = createMemoryCatalog();
  private loaded: boolean;

  constructor(options: { readonly synced?: boolean } = {}) {
    this.loaded = options.synced ?? true;
  }

  setSynced(value: boolean): void {
    this.loaded = value;
  }

  /** The Service and its slices (their namespace and service-name label set from it). */
  addService(service: Service, slices: readonly EndpointSlice[] = []): this {
    const namespace = service.metadata?.namespace ?? 'default';
    const name = service.metadata?.name ?? '';
    this.memory.setService(service);
    for (const existing of this.memory.get({ namespace, name })?.slices ?? []) this.memory.deleteSlice(existing);
    for (const slice of slices) {
      this.memory.setSlice({ ...slice, metadata: { ...slice.metadata, namespace, labels: { ...slice.metadata?.labels, [serviceNameLabel]: name } } });
    }
    return this;
  }

  synced(): boolean {
    return this.loaded;
  }

  async waitForSync(): Promise<boolean> {
    return this.loaded;
  }

  get(key: ServiceKey): CatalogEntry | undefined {
    return this.memory.get(key);
  }

  entries(): Iterable<CatalogEntry> {
    return this.memory.entries();
  }

  byClusterIp(ip: string): CatalogEntry | undefined {
    return this.memory.byClusterIp(ip);
  }

  endpointsFor(key: ServiceKey, portName: string, protocol: ServiceProtocol): readonly ResolvedEndpoint[] {
    return this.memory.endpointsFor(key, portName, protocol);
  }

  subscribe(listener: (changed: readonly ServiceKey[]) => void): () => void {
    return this.memory.subscribe(listener);
  }

  stop(): void {
    this.memory.stop();
  }
}

export function service(namespace: string, name: string, spec: NonNullable<Service['spec']>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

let sliceCount = 0;

export function slice(
  service: string,
  endpoints: readonly { readonly ip: string; readonly ready?: boolean; readonly hostname?: string }[],
  ports: readonly { readonly name: string; readonly port: number; readonly protocol?: 'TCP' | 'UDP' }[],
  addressType: 'IPv4' | 'IPv6' = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType,
    metadata: { name: `${service}-${++sliceCount}`, labels: { [serviceNameLabel]: service } },
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip], conditions: { ready: endpoint.ready ?? true },
      ...(endpoint.hostname !== undefined ? { hostname: endpoint.hostname } : {}),
    })),
    ports: ports.map((port) => ({ name: port.name, port: port.port, protocol: port.protocol ?? 'TCP' })),
  };
}
