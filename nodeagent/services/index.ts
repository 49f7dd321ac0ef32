/**
 * The node's Service catalog (catalog.ts is the contract): Services and EndpointSlices through the
 * API over NATS, kept while the API is unreachable.
 */
import type { AgentContext } from '../agent-context.js';
import type { ServiceCatalog } from './catalog.js';
import { startInformerCatalog } from './informer-catalog.js';

export * from './catalog.js';
export { createMemoryCatalog, type MemoryCatalog } from './memory-catalog.js';
export { resolveEndpoints, serviceNameLabel } from './endpoint-merge.js';
export { clusterIpsOf, serviceKeyString } from './catalog-state.js';

/** One informer pair per node; the proxy and the DNS server share it. */
export function startServiceCatalog(ctx: Pick<AgentContext, 'api' | 'clock' | 'logger' | 'nodeName'>): ServiceCatalog {
  return startInformerCatalog({ api: ctx.api, clock: ctx.clock, logger: ctx.logger });
}
