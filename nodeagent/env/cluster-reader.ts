/**
 * Reads of what a node's pods reference (ConfigMaps, Secrets, Services, the Node's allocatable),
 * through the API with the node's identity, cached for a short TTL (limits.ts). Shared by the env
 * resolver and the volume manager so one pod start reads each object once.
 *
 * Decision: a missing object is `null`, not an error: whether that is fatal depends on the
 * reference's `optional` flag, which only the caller knows.
 */
import type { ConfigMap, Node, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { ApiClient, ResourceRef } from '../../actors/controllers/runtime/types.js';
import { parseQuantity } from '../../actors/objects/index.js';
import { coreResources, isNotFoundError } from './api-resources.js';
import { envLimits } from './limits.js';
import { TtlCache } from './ttl-cache.js';
import type { Allocatable } from './downward-api.js';

export interface ClusterReader {
  /** The object's data as text (ConfigMap `data` and `binaryData`; Secret `data` decoded), or null when it does not exist. */
  configMapData(namespace: string, name: string): Promise<Readonly<Record<string, Buffer>> | null>;
  secretData(namespace: string, name: string): Promise<Readonly<Record<string, Buffer>> | null>;
  services(namespace: string): Promise<readonly Service[]>;
  /** The Node's allocatable as numbers (empty when the Node cannot be read: limits then default to 0, logged by the caller). */
  allocatable(): Promise<Allocatable>;
}

type Data = Readonly<Record<string, Buffer>> | null;

function decode(values: Readonly<Record<string, string>> | undefined, encoding: 'utf8' | 'base64'): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(values ?? {})) out[key] = Buffer.from(value, encoding);
  return out;
}

export function createClusterReader(options: { readonly api: ApiClient; readonly clock: Clock; readonly nodeName: string }): ClusterReader {
  const { api, clock, nodeName } = options;
  const objects = new TtlCache<Data>({ clock, ttlMs: envLimits.objectCacheTtlMs, entriesMax: envLimits.cacheEntriesMax });
  const services = new TtlCache<readonly Service[]>({ clock, ttlMs: envLimits.objectCacheTtlMs, entriesMax: envLimits.cacheEntriesMax });
  const nodes = new TtlCache<Allocatable>({ clock, ttlMs: envLimits.nodeCacheTtlMs, entriesMax: 1 });
  const orNull = async <T>(read: Promise<T>): Promise<T | null> => {
    try {
      return await read;
    } catch (error) {
      if (isNotFoundError(error)) return null;
      throw error;
    }
  };
  const readData = <T>(resource: ResourceRef, namespace: string, name: string, toData: (found: T) => Record<string, Buffer>): Promise<Data> =>
    objects.get(`${resource.resource}/${namespace}/${name}`, async () => {
      const found = await orNull(api.get<T>(resource, namespace, name));
      return found === null ? null : toData(found);
    });
  return {
    configMapData: (namespace, name) => readData(coreResources.configmaps, namespace, name, (found: ConfigMap) => ({
      ...decode(found.data, 'utf8'), ...decode(found.binaryData, 'base64'),
    })),
    secretData: (namespace, name) => readData(coreResources.secrets, namespace, name, (found: Secret) => ({
      ...decode(found.data, 'base64'), ...decode(found.stringData, 'utf8'),
    })),
    services: (namespace) => services.get(namespace, async () => {
      const list = await api.list<Service>(coreResources.services, { namespace, limit: envLimits.servicesPerNamespaceMax });
      return list.items;
    }),
    allocatable: () => nodes.get(nodeName, async () => {
      const node = await api.get<Node>(coreResources.nodes, undefined, nodeName);
      const out: Record<string, number> = {};
      for (const [key, value] of Object.entries(node.status?.allocatable ?? {})) {
        const parsed = parseQuantity(value);
        if (parsed !== undefined) out[key] = parsed;
      }
      return out;
    }),
  };
}
