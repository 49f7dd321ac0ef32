/**
 * The Endpoints controller: one core/v1 Endpoints per Service with a selector, named like it,
 * following its pods' addresses and readiness (desired-endpoints.ts decides; this file reads the
 * informers and writes). A Service without a selector keeps the Endpoints its user writes; a
 * deleted Service loses its Endpoints.
 *
 * Decision: a create that finds the name taken or an update on a stale resourceVersion fails and is
 * retried with backoff after the informer catches up, rather than read-modify-write against the
 * API: the informer is the view every decision is made from.
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { objectKey, splitKey } from '../../objects/index.js';
import type { ControllerContext, ControllerSpec, Informer, WorkQueue } from '../runtime/types.js';
import { refs } from '../runtime/resource-refs.js';
import { isNotFound } from '../runtime/api-errors.js';
import { endpointsAction } from './desired-endpoints.js';
import { hasSelector, servicesSelecting } from './selecting-services.js';
import { computeTriggerTime, TriggerTimeTracker } from './trigger-time.js';
import { endpointsLimits } from './limits.js';

/** Trigger-time state per controller context (one per process that runs the controller). */
const trackers = new WeakMap<ControllerContext, TriggerTimeTracker>();

function trackerOf(ctx: ControllerContext): TriggerTimeTracker {
  let tracker = trackers.get(ctx);
  if (tracker === undefined) {
    tracker = new TriggerTimeTracker(endpointsLimits.trackedServicesMax);
    trackers.set(ctx, tracker);
  }
  return tracker;
}

/** Enqueues the Services a pod event concerns. */
export function watchServicePods(ctx: ControllerContext, queue: WorkQueue): Array<() => void> {
  const services = ctx.informers.informer(refs.services);
  const pods = ctx.informers.informer(refs.pods);
  const enqueue = (pod: Pod, previous?: Pod): void => {
    for (const key of servicesSelecting(services, pod, previous)) queue.add(key);
  };
  return [
    services.addHandlers({ onAdd: (s) => queue.add(objectKey(s)), onUpdate: (_p, s) => queue.add(objectKey(s)), onDelete: (s) => queue.add(objectKey(s)) }),
    pods.addHandlers({
      onAdd: (pod) => enqueue(pod as unknown as Pod),
      onUpdate: (previous, pod) => enqueue(pod as unknown as Pod, previous as unknown as Pod),
      onDelete: (pod) => enqueue(pod as unknown as Pod),
    }),
  ];
}

async function reconcile(key: string, ctx: ControllerContext): Promise<void> {
  const { namespace, name } = splitKey(key);
  const service = ctx.informers.informer(refs.services).get(key) as unknown as Service | undefined;
  const tracker = trackerOf(ctx);
  if (service === undefined) {
    tracker.forget(key);
    try {
      await ctx.api.delete(refs.endpoints, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return;
  }
  if (!hasSelector(service)) return;
  const pods = ctx.informers.informer(refs.pods).matching({ matchLabels: service.spec?.selector ?? {} }, namespace) as unknown as Pod[];
  const current = ctx.informers.informer(refs.endpoints).get(key) as unknown as Endpoints | undefined;
  const { triggerTime, state } = computeTriggerTime(tracker.get(key), service, pods);
  const action = endpointsAction(service, current, pods, triggerTime);
  if (action.kind === 'create') await ctx.api.create(refs.endpoints, namespace, action.body);
  else if (action.kind === 'update') await ctx.api.update(refs.endpoints, namespace, name, action.body);
  tracker.set(key, state);
}

export const endpointsController: ControllerSpec = {
  name: 'endpoint',
  resource: refs.services,
  watch(ctx, queue) {
    const endpoints = ctx.informers.informer(refs.endpoints);
    const services: Informer = ctx.informers.informer(refs.services);
    // An Endpoints deleted or edited behind the controller's back is put back as its Service says.
    const ownEndpoint = (e: { metadata: { namespace?: string; name?: string } }): void => {
      const key = objectKey(e);
      if (services.get(key) !== undefined) queue.add(key);
    };
    const unsubscribe = [
      ...watchServicePods(ctx, queue),
      endpoints.addHandlers({ onUpdate: (_p, e) => ownEndpoint(e), onDelete: (e) => ownEndpoint(e) }),
    ];
    return () => { for (const u of unsubscribe) u(); };
  },
  reconcile: (key, ctx) => reconcile(key, ctx),
};
