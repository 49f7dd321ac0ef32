/**
 * A catalog kept by hand: for tests, benchmarks (`npm run bench:proxy` starts a proxy on one) and
 * anything that wants the proxy or DNS server without a cluster. Synced from the start.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ServiceCatalog } from './catalog.js';
import { CatalogState, catalogOver } from './catalog-state.js';

export interface MemoryCatalog extends ServiceCatalog {
  setService(service: Service): void;
  deleteService(service: Service): void;
  /** Slices name their Service by the `kubernetes.io/service-name` label, as in the cluster. */
  setSlice(slice: EndpointSlice): void;
  deleteSlice(slice: EndpointSlice): void;
}

export function createMemoryCatalog(): MemoryCatalog {
  const state = new CatalogState();
  return {
    ...catalogOver(state, { synced: () => true, waitForSync: async () => true, stop: () => state.close() }),
    setService: (service) => state.upsertService(service),
    deleteService: (service) => state.removeService(service),
    setSlice: (slice) => state.upsertSlice(slice),
    deleteSlice: (slice) => state.removeSlice(slice),
  };
}
