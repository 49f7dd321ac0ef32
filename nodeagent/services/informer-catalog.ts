/**
 * The agent's catalog: one informer on Services and one on EndpointSlices, cluster-wide, through
 * the API over NATS with the node's identity (the node authorizer lets nodes list and watch both).
 *
 * Decision: the controller runtime's SharedInformer is reused as it is: a failed list or watch
 * leaves its cache untouched and retries with backoff, and only a list that succeeds replaces the
 * cache (reporting the difference). So through quorum loss or member restarts the catalog keeps
 * its last state and the proxy keeps serving it; once the API answers, a relist brings it up to date.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import { SharedInformer } from '../../actors/controllers/runtime/informer.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import type { KubeObject } from '../../actors/objects/meta.js';
import type { ServiceCatalog } from './catalog.js';
import { CatalogState, catalogOver } from './catalog-state.js';

export interface InformerCatalogOptions {
  readonly api: ApiClient;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function startInformerCatalog(options: InformerCatalogOptions): ServiceCatalog {
  const logger = options.logger.child({ part: 'service-catalog' });
  const state = new CatalogState();
  const services = new SharedInformer<KubeObject>({ api: options.api, resource: refs.services, clock: options.clock, logger });
  const slices = new SharedInformer<KubeObject>({ api: options.api, resource: refs.endpointslices, clock: options.clock, logger });
  services.addHandlers({
    onAdd: (object) => state.upsertService(object as Service),
    onUpdate: (_previous, next) => state.upsertService(next as Service),
    onDelete: (object) => state.removeService(object as Service),
  });
  slices.addHandlers({
    onAdd: (object) => state.upsertSlice(object as unknown as EndpointSlice),
    onUpdate: (previous, next) => {
      // A slice relabelled to another Service leaves the first one.
      state.removeSlice(previous as unknown as EndpointSlice);
      state.upsertSlice(next as unknown as EndpointSlice);
    },
    onDelete: (object) => state.removeSlice(object as unknown as EndpointSlice),
  });
  services.start();
  slices.start();
  const synced = (): boolean => services.hasSynced() && slices.hasSynced();
  const bothSynced = Promise.all([services.whenSynced(), slices.whenSynced()]).then(() => {
    logger.info('service catalog synced', { services: services.list().length, endpointSlices: slices.list().length });
  });
  // A stop answers every waiter (false) at once: no timer of a stopped catalog keeps the process alive.
  let stopped!: () => void;
  const stopping = new Promise<void>((resolve) => (stopped = resolve));
  return catalogOver(state, {
    synced,
    waitForSync: async (timeoutMs) => (await waitWithDeadline(Promise.race([bothSynced, stopping]), options.clock, timeoutMs)) && synced(),
    stop: () => {
      services.stop();
      slices.stop();
      state.close();
      stopped();
    },
  });
}

/** True once `done` settles, false at the deadline (on the injected clock). */
export function waitWithDeadline(done: Promise<unknown>, clock: Clock, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), timeoutMs);
    void done.then(() => {
      clock.clearTimeout(timer);
      resolve(true);
    });
  });
}
