/**
 * The EndpointSlice controller: the discovery.k8s.io/v1 slices of every Service with a selector,
 * at most `--max-endpoints-per-slice` endpoints each (100 by default), labelled and owned as
 * Kubernetes' `endpointslice-controller.k8s.io` does (slice-plan.ts decides the writes; this file
 * reads the informers, writes, and waits for its writes to show before deciding again).
 *
 * Decision: a deleted Service's slices are left to the garbage collector (they are owned by the
 * Service), as in Kubernetes; the controller deletes only slices its plan makes surplus.
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { objectKey, splitKey } from '../../objects/index.js';
import type { ControllerContext, ControllerSpec, ReconcileResult } from '../runtime/types.js';
import { refs } from '../runtime/resource-refs.js';
import { isNotFound } from '../runtime/api-errors.js';
import { computeTriggerTime, hasSelector, TriggerTimeTracker, watchServicePods } from '../endpoints/index.js';
import { desiredSliceEndpoints } from './desired-slice-endpoints.js';
import { managedByLabel, managedByValue, planSlices, serviceNameLabel } from './slice-plan.js';
import { SliceExpectations } from './slice-expectations.js';
import { endpointSliceLimits } from './limits.js';

interface State {
  readonly triggers: TriggerTimeTracker;
  readonly expectations: SliceExpectations;
}

const states = new WeakMap<ControllerContext, State>();

function stateOf(ctx: ControllerContext): State {
  let state = states.get(ctx);
  if (state === undefined) {
    state = {
      triggers: new TriggerTimeTracker(endpointSliceLimits.trackedServicesMax),
      expectations: new SliceExpectations({ capacity: endpointSliceLimits.trackedServicesMax, timeoutMs: endpointSliceLimits.expectationsTimeoutMs }),
    };
    states.set(ctx, state);
  }
  return state;
}

/** `--max-endpoints-per-slice`, within what the API accepts. */
export function maxEndpointsPerSlice(options: ControllerContext['options']): number {
  const value = Number(options['maxEndpointsPerSlice'] ?? endpointSliceLimits.maxEndpointsPerSliceDefault);
  if (!Number.isInteger(value) || value < 1) return endpointSliceLimits.maxEndpointsPerSliceDefault;
  return Math.min(value, endpointSliceLimits.maxEndpointsPerSliceMax);
}

function managedSlices(ctx: ControllerContext, namespace: string, name: string): EndpointSlice[] {
  return (ctx.informers.informer(refs.endpointslices).byIndex('namespace', namespace) as unknown as EndpointSlice[])
    .filter((s) => s.metadata?.labels?.[serviceNameLabel] === name && s.metadata.labels[managedByLabel] === managedByValue);
}

async function reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
  const { namespace = '', name } = splitKey(key);
  const state = stateOf(ctx);
  const service = ctx.informers.informer(refs.services).get(key) as unknown as Service | undefined;
  if (service === undefined || !hasSelector(service)) {
    state.triggers.forget(key);
    state.expectations.forget(key);
    return;
  }
  const existing = managedSlices(ctx, namespace, name);
  if (!state.expectations.satisfied(key, existing, ctx.clock.now())) return { requeueAfterMs: endpointSliceLimits.staleRetryMs };
  const pods = ctx.informers.informer(refs.pods).matching({ matchLabels: service.spec?.selector ?? {} }, namespace) as unknown as Pod[];
  const nodes = ctx.informers.informer(refs.nodes);
  const zoneOf = (nodeName: string): string | undefined => (nodes.get(nodeName) as unknown as Node | undefined)?.metadata?.labels?.['topology.kubernetes.io/zone'];
  const desired = desiredSliceEndpoints(service, pods, zoneOf);
  const { triggerTime, state: triggerState } = computeTriggerTime(state.triggers.get(key), service, pods);
  const plan = planSlices(service, existing, desired, { maxEndpointsPerSlice: maxEndpointsPerSlice(ctx.options), triggerTime });
  if (plan.create.length + plan.update.length + plan.delete.length === 0) return;
  const written: EndpointSlice[] = [];
  const deleted: string[] = [];
  try {
    for (const slice of plan.create) written.push(await ctx.api.create<EndpointSlice>(refs.endpointslices, namespace, slice));
    for (const slice of plan.update) written.push(await ctx.api.update<EndpointSlice>(refs.endpointslices, namespace, slice.metadata?.name ?? '', slice));
    for (const slice of plan.delete) {
      try {
        await ctx.api.delete(refs.endpointslices, namespace, slice.metadata?.name ?? '', { preconditions: { uid: slice.metadata?.uid ?? '' } });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      deleted.push(slice.metadata?.name ?? '');
    }
  } finally {
    // Even a plan cut short by a failure must not be repeated for what it did write.
    state.expectations.expect(key, written, deleted, ctx.clock.now());
  }
  state.triggers.set(key, triggerState);
}

export const endpointSliceController: ControllerSpec = {
  name: 'endpointslice',
  resource: refs.services,
  watch(ctx, queue) {
    const services = ctx.informers.informer(refs.services);
    const slices = ctx.informers.informer(refs.endpointslices);
    ctx.informers.informer(refs.nodes);
    // A managed slice changed or deleted behind the controller's back is put back as its Service says.
    const ownSlice = (object: { metadata: { namespace?: string; labels?: Record<string, string> } }): void => {
      const labels = object.metadata.labels ?? {};
      if (labels[managedByLabel] !== managedByValue || labels[serviceNameLabel] === undefined) return;
      const key = objectKey({ metadata: { namespace: object.metadata.namespace, name: labels[serviceNameLabel] } });
      if (services.get(key) !== undefined) queue.add(key);
    };
    const unsubscribe = [
      ...watchServicePods(ctx, queue),
      slices.addHandlers({ onAdd: ownSlice, onUpdate: (_p, s) => ownSlice(s), onDelete: ownSlice }),
    ];
    return () => { for (const u of unsubscribe) u(); };
  },
  reconcile: (key, ctx) => reconcile(key, ctx),
};
