/**
 * The quota controller's race with admission, on fake informers and a fake API: a count from the
 * informers that would LOWER usage (the pods watch behind the quota admission just charged) is
 * confirmed by reading the quota and then listing live before anything is written, and the write
 * carries the resourceVersion of the quota it counted against; a count that raises usage is
 * written from the informers' view with the cached quota's resourceVersion.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { resourceQuotaController } from '../../actors/controllers/resourcequota/index.js';
import type { ControllerContext, Informer, ResourceRef, WorkQueue } from '../../actors/controllers/runtime/types.js';
import type { KubeObject } from '../../actors/objects/index.js';

const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' } });
const quota = (rv: string, pods: string): ResourceQuota => ({
  apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns', resourceVersion: rv }, spec: { hard: { pods: '10' } }, status: { hard: { pods: '10' }, used: { pods } },
});

function fakeInformer(objects: readonly unknown[]): Informer {
  const items = objects as KubeObject[];
  return {
    resource: {} as ResourceRef, hasSynced: () => true, list: () => items,
    get: (key) => items.find((o) => `${o.metadata.namespace}/${o.metadata.name}` === key),
    byIndex: (_index, value) => items.filter((o) => o.metadata.namespace === value),
    matching: () => items, addHandlers: () => () => undefined, addIndex: () => undefined,
  };
}

interface Calls { gets: string[]; lists: string[]; updates: { rv: string | undefined; used: unknown; subresource: string | undefined }[] }

function fakeContext(view: { pods: Pod[]; quota: ResourceQuota }, live: { pods: Pod[]; quota: ResourceQuota }): { ctx: ControllerContext; calls: Calls } {
  const calls: Calls = { gets: [], lists: [], updates: [] };
  const cached: Record<string, unknown[]> = { pods: view.pods, resourcequotas: [view.quota] };
  const liveLists: Record<string, unknown[]> = { pods: live.pods, resourcequotas: [live.quota] };
  const ctx = {
    informers: { informer: (ref: ResourceRef) => fakeInformer(cached[ref.resource] ?? []), waitForSync: async () => undefined },
    api: {
      get: async (ref: ResourceRef) => { calls.gets.push(ref.resource); return live.quota; },
      list: async (ref: ResourceRef) => { calls.lists.push(ref.resource); return { items: liveLists[ref.resource] ?? [], resourceVersion: '99' }; },
      update: async (_ref: ResourceRef, _ns: string, _name: string, body: ResourceQuota, options?: { subresource?: string }) => {
        calls.updates.push({ rv: body.metadata?.resourceVersion, used: body.status?.used, subresource: options?.subresource });
        return body;
      },
    },
    options: {},
  } as unknown as ControllerContext;
  return { ctx, calls };
}

const reconcile = (ctx: ControllerContext) => resourceQuotaController.reconcile('ns/q', ctx, {} as WorkQueue);

describe('ResourceQuota controller against admission', () => {
  it('does not undo a charge its pods informer has not seen yet: the live count agrees with the status, nothing is written', async () => {
    const { ctx, calls } = fakeContext({ pods: [pod('a')], quota: quota('10', '2') }, { pods: [pod('a'), pod('b')], quota: quota('10', '2') });
    await reconcile(ctx);
    expect(calls.gets).toEqual(['resourcequotas']);
    expect(calls.lists).toContain('pods');
    expect(calls.updates).toEqual([]);
  });

  it('lowers usage after a real delete, written against the resourceVersion of the quota read live', async () => {
    const { ctx, calls } = fakeContext({ pods: [pod('a')], quota: quota('10', '2') }, { pods: [pod('a')], quota: quota('12', '2') });
    await reconcile(ctx);
    expect(calls.updates).toEqual([{ rv: '12', used: { pods: '1' }, subresource: 'status' }]);
  });

  it('raises usage from the informers alone, against the cached quota resourceVersion', async () => {
    const { ctx, calls } = fakeContext({ pods: [pod('a'), pod('b'), pod('c')], quota: quota('10', '2') }, { pods: [], quota: quota('10', '2') });
    await reconcile(ctx);
    expect(calls.gets).toEqual([]);
    expect(calls.lists).toEqual([]);
    expect(calls.updates).toEqual([{ rv: '10', used: { pods: '3' }, subresource: 'status' }]);
  });
});
