/**
 * Reads of what a node's pods reference (ConfigMaps, Secrets, Services, the Node's allocatable),
 * through the API with the node's identity, cached for a short TTL (limits.ts). Shared by the env
 * resolver and the volume manager so one pod start reads each object once.
 *
 * Decision: a missing object is `null`, not an error: whether that is fatal depends on the
 * reference's `optional` flag, which only the caller knows. When the API does not answer, the
 * last value read is used (last-known.ts), so pods start offline as they did online.
 */
import type { ConfigMap, Node, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { ApiClient, ResourceRef } from '../../actors/controllers/runtime/types.js';
import { parseQuantity } from '../../actors/objects/index.js';
import path from 'node:path';
import type { Logger } from '../../bus/logger.js';
import { coreResources, isApiAnswer, isNotFoundError } from './api-resources.js';
import { LastKnown } from './last-known.js';
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
  /**
   * True for `unreachableHoldMs` after a request the API did not answer (here or reported by
   * another part through `noteUnanswered`): callers with something to fall back on use it at once
   * instead of waiting out one request timeout per object.
   */
  unreachable(): boolean;
  noteUnanswered(): void;
}

type Data = Readonly<Record<string, Buffer>> | null;
type Json = unknown;

function decode(values: Readonly<Record<string, string>> | undefined, encoding: 'utf8' | 'base64'): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(values ?? {})) out[key] = Buffer.from(value, encoding);
  return out;
}

export interface ClusterReaderOptions {
  readonly api: ApiClient;
  readonly clock: Clock;
  readonly nodeName: string;
  /** The agent's `--dir`: what was last read is kept there for starts while the API is unreachable. */
  readonly dir?: string;
  readonly logger?: Logger;
}

const encodeData = (data: Data): Json => (data === null ? null : Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])));
const decodeData = (json: Json): Data => (json === null ? null : decode(json as Record<string, string>, 'base64'));
const same = <T>(value: T): Json => value;

export function createClusterReader(options: ClusterReaderOptions): ClusterReader {
  const { api, clock, nodeName } = options;
  const lastKnown = new LastKnown(options.dir === undefined ? null : path.join(options.dir, 'env', 'last-known.json'));
  let unreachableUntilMs = Number.NEGATIVE_INFINITY;
  const unreachable = (): boolean => clock.now() < unreachableUntilMs;
  const noteUnanswered = (): void => {
    unreachableUntilMs = clock.now() + envLimits.unreachableHoldMs;
  };
  /** `load()`, remembered; when the API does not answer, the last value known instead (if any). */
  const withFallback = async <T>(key: string, load: () => Promise<T>, encode: (value: T) => Json, restore: (json: Json) => T): Promise<T> => {
    if (unreachable()) {
      const known = await lastKnown.recall(key);
      if (known !== undefined) return restore(known);
    }
    try {
      const value = await load();
      unreachableUntilMs = Number.NEGATIVE_INFINITY;
      await lastKnown.remember(key, encode(value));
      return value;
    } catch (error) {
      if (isApiAnswer(error)) throw error;
      noteUnanswered();
      const known = await lastKnown.recall(key);
      if (known === undefined) throw error;
      options.logger?.warn('the API did not answer; using the last known value', { object: key, error: (error as Error).message });
      return restore(known);
    }
  };
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
    objects.get(`${resource.resource}/${namespace}/${name}`, () => withFallback(`${resource.resource}/${namespace}/${name}`, async () => {
      const found = await orNull(api.get<T>(resource, namespace, name));
      return found === null ? null : toData(found);
    }, encodeData, decodeData));
  return {
    configMapData: (namespace, name) => readData(coreResources.configmaps, namespace, name, (found: ConfigMap) => ({
      ...decode(found.data, 'utf8'), ...decode(found.binaryData, 'base64'),
    })),
    secretData: (namespace, name) => readData(coreResources.secrets, namespace, name, (found: Secret) => ({
      ...decode(found.data, 'base64'), ...decode(found.stringData, 'utf8'),
    })),
    services: (namespace) => services.get(namespace, () => withFallback(`services/${namespace}`, async () => {
      const list = await api.list<Service>(coreResources.services, { namespace, limit: envLimits.servicesPerNamespaceMax });
      return list.items;
    }, same, (json) => json as Service[])),
    allocatable: () => nodes.get(nodeName, () => withFallback(`nodes/${nodeName}`, async () => {
      const node = await api.get<Node>(coreResources.nodes, undefined, nodeName);
      const out: Record<string, number> = {};
      for (const [key, value] of Object.entries(node.status?.allocatable ?? {})) {
        const parsed = parseQuantity(value);
        if (parsed !== undefined) out[key] = parsed;
      }
      return out;
    }, same, (json) => json as Allocatable)),
    unreachable,
    noteUnanswered,
  };
}
