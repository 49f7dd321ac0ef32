/**
 * A ServiceCatalog built from plain Services and EndpointSlices, for the DNS tests (the real one,
 * nodeagent/services/, keeps the same state from informers). `endpointsFor` resolves ports as the
 * contract says: by the slice port's name, every slice merged, de-duplicated by address.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { CatalogEntry, ResolvedEndpoint, ServiceCatalog, ServiceKey, ServiceProtocol } from '../../../nodeagent/services/catalog.js';

export class FakeCatalog implements ServiceCatalog {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice[]>();
  private loaded: boolean;

  constructor(options: { readonly synced?: boolean } = {}) {
    this.loaded = options.synced ?? true;
  }

  setSynced(value: boolean): void {
    this.loaded = value;
  }

  addService(service: Service, slices: readonly EndpointSlice[] = []): this {
    const key = `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
    this.services.set(key, service);
    this.slices.set(key, [...slices]);
    return this;
  }

  synced(): boolean {
    return this.loaded;
  }

  async waitForSync(): Promise<boolean> {
    return this.loaded;
  }

  get(key: ServiceKey): CatalogEntry | undefined {
    const id = `${key.namespace}/${key.name}`;
    const service = this.services.get(id);
    return service === undefined ? undefined : { service, slices: this.slices.get(id) ?? [] };
  }

  entries(): Iterable<CatalogEntry> {
    return [...this.services.keys()].map((id) => ({ service: this.services.get(id) as Service, slices: this.slices.get(id) ?? [] }));
  }

  byClusterIp(ip: string): CatalogEntry | undefined {
    return [...this.entries()].find((entry) => (entry.service.spec?.clusterIPs ?? [entry.service.spec?.clusterIP]).includes(ip));
  }

  endpointsFor(key: ServiceKey, portName: string, protocol: ServiceProtocol): readonly ResolvedEndpoint[] {
    const seen = new Map<string, ResolvedEndpoint>();
    for (const slice of this.get(key)?.slices ?? []) {
      const port = (slice.ports ?? []).find((candidate) => (candidate.name ?? '') === portName && (candidate.protocol ?? 'TCP') === protocol);
      if (port?.port === undefined) continue;
      for (const endpoint of slice.endpoints) {
        const address = endpoint.addresses[0];
        if (address === undefined || seen.has(address)) continue;
        seen.set(address, {
          address, port: port.port,
          ready: endpoint.conditions?.ready !== false, serving: endpoint.conditions?.serving !== false, terminating: endpoint.conditions?.terminating === true,
          ...(endpoint.hostname !== undefined ? { hostname: endpoint.hostname } : {}),
          ...(endpoint.nodeName !== undefined ? { nodeName: endpoint.nodeName } : {}),
        });
      }
    }
    return [...seen.values()];
  }

  subscribe(): () => void {
    return () => undefined;
  }

  stop(): void {}
}

export function service(namespace: string, name: string, spec: NonNullable<Service['spec']>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

export function slice(
  service: string,
  endpoints: readonly { readonly ip: string; readonly ready?: boolean; readonly hostname?: string }[],
  ports: readonly { readonly name: string; readonly port: number; readonly protocol?: 'TCP' | 'UDP' }[],
  addressType: 'IPv4' | 'IPv6' = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType,
    metadata: { name: `${service}-${Math.abs(hash(JSON.stringify(endpoints)))}`, labels: { 'kubernetes.io/service-name': service } },
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip], conditions: { ready: endpoint.ready ?? true },
      ...(endpoint.hostname !== undefined ? { hostname: endpoint.hostname } : {}),
    })),
    ports: ports.map((port) => ({ name: port.name, port: port.port, protocol: port.protocol ?? 'TCP' })),
  };
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) | 0;
  return value;
}
