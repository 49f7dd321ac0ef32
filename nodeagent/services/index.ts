/**
 * The node's Service catalog (catalog.ts is the contract): Services and EndpointSlices through the
 * API over NATS, kept while the API is unreachable.
 */
import type { AgentContext } from '../agent-context.js';
import type { ServiceCatalog } from './catalog.js';

export * from './catalog.js';

/** STUB (issue 12, H2 replaces): an empty catalog that never syncs. */
export function startServiceCatalog(_ctx: Pick<AgentContext, 'api' | 'clock' | 'logger' | 'nodeName'>): ServiceCatalog {
  return {
    synced: () => false,
    waitForSync: async () => false,
    get: () => undefined,
    entries: () => [],
    byClusterIp: () => undefined,
    endpointsFor: () => [],
    subscribe: () => () => undefined,
    stop: () => undefined,
  };
}
