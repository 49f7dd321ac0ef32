/**
 * The namespace controller: empties a Terminating namespace (every namespaced resource the API
 * serves), reports progress in the namespace's deletion conditions, and then removes its
 * `kubernetes` finalizer through `namespaces/<name>/finalize`, which lets the API remove it.
 * Decisions are in namespace-deletion.ts.
 *
 * Decision: a namespace is first looked at `deletionGracePeriodMs` after it was seen Terminating
 * (Kubernetes waits 5 s too), so a client deleting the content itself is not overtaken.
 *
 * Decision: each pass deletes what it lists, then lists again to count what is left, and
 * finalizes only on a pass that found nothing: objects held by finalizers (the garbage collector's
 * foreground deletion, a user's finalizer) keep the namespace Terminating, as in Kubernetes. The
 * API refuses creates in a Terminating namespace atomically, so nothing appears after the last
 * empty pass.
 */
import type { KubeObject } from '../../objects/index.js';
import { isNotFound } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, ResourceRef } from '../runtime/types.js';
import { groupResourceName, namespacedContentResources } from '../resource-catalog.js';
import { namespaceControllerLimits } from './limits.js';
import {
  awaitsContentDeletion, contentGone, contentRecheckDelayMs, countObject, finalizeRequest, statusWithConditions, type ContentReport,
} from './namespace-deletion.js';

const content: readonly ResourceRef[] = namespacedContentResources();

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Every object of one resource in the namespace, page by page (bounded: the rest waits for the next pass). */
async function listAll(ctx: ControllerContext, ref: ResourceRef, namespace: string): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  for (let page = 0; page < namespaceControllerLimits.listPagesMax; page++) {
    const listed = await ctx.api.list<KubeObject>(ref, { namespace, limit: namespaceControllerLimits.listPageSize, ...(token !== undefined ? { continue: token } : {}) });
    items.push(...listed.items);
    token = listed.continue;
    if (token === undefined || token === '') break;
  }
  return items;
}

/** Deletes every object not already going; failures are reported, not thrown, so one resource cannot stall the rest. */
async function deleteContent(ctx: ControllerContext, namespace: string, failures: string[]): Promise<void> {
  for (const ref of content) {
    try {
      for (const object of await listAll(ctx, ref, namespace)) {
        if (object.metadata.deletionTimestamp !== undefined) continue;
        await ctx.api.delete(ref, namespace, object.metadata.name ?? '', { propagationPolicy: 'Background' }).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
    } catch (error) {
      failures.push(`${groupResourceName(ref)}: ${errorMessage(error)}`);
    }
  }
}

async function countContent(ctx: ControllerContext, namespace: string, failures: string[]): Promise<ContentReport> {
  const report = { remaining: new Map<string, number>(), finalizers: new Map<string, number>(), failures };
  for (const ref of content) {
    try {
      for (const object of await listAll(ctx, ref, namespace)) countObject(report, groupResourceName(ref), object);
    } catch (error) {
      failures.push(`${groupResourceName(ref)}: ${errorMessage(error)}`);
    }
  }
  return report;
}

async function getNamespace(ctx: ControllerContext, name: string): Promise<KubeObject | null> {
  try {
    return await ctx.api.get<KubeObject>(refs.namespaces, undefined, name);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Condition times are API timestamps (wall clock, second precision); the runtime's clock is monotonic. */
function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const namespaceController: ControllerSpec = {
  name: 'namespace',
  workers: namespaceControllerLimits.workers,
  maxRetries: namespaceControllerLimits.maxRetries,
  watch(ctx, queue) {
    const enqueue = (namespace: KubeObject): void => {
      if (namespace.metadata.deletionTimestamp !== undefined) queue.addAfter(namespace.metadata.name ?? '', namespaceControllerLimits.deletionGracePeriodMs);
    };
    return ctx.informers.informer(refs.namespaces).addHandlers({ onAdd: enqueue, onUpdate: (_previous, next) => enqueue(next) });
  },
  async reconcile(name, ctx) {
    const namespace = await getNamespace(ctx, name);
    if (namespace === null || !awaitsContentDeletion(namespace)) return;
    const failures: string[] = [];
    await deleteContent(ctx, name, failures);
    const report = await countContent(ctx, name, failures);
    let current = namespace;
    const status = statusWithConditions(namespace, report, rfc3339Now());
    if (status !== null) {
      current = await ctx.api.update<KubeObject>(refs.namespaces, undefined, name, { ...namespace, status }, { subresource: 'status' });
    }
    if (!contentGone(report)) return { requeueAfterMs: contentRecheckDelayMs(namespace, Date.now()) };
    await ctx.api.update(refs.namespaces, undefined, name, finalizeRequest(current), { subresource: 'finalize' });
    ctx.logger.info('namespace controller: content deleted, namespace finalized', { namespace: name });
  },
};
