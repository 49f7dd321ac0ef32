/**
 * The ResourceQuota controller: `status.hard` mirrored from the spec and `status.used` recounted
 * (quota-usage.ts) whenever an object the namespace's quotas count is created, changed in a way
 * that matters, or deleted, and every `--resource-quota-sync-period` (5 min) for every quota.
 *
 * Decision: admission charges a create by writing status.used in the create's own store
 * transaction, so the quota's resourceVersion moves with every charge. The controller writes with
 * the resourceVersion of the quota it counted against (a compare-and-swap): a charge landing in
 * between makes the write fail and the quota is counted again. Counting from the informers can
 * still be behind the quota (the pods watch later than the quotas watch), which would lose a
 * charge; so a count that would LOWER a name is confirmed first by reading the quota and then
 * listing the objects live, a list at a revision at least the quota's, written against that
 * quota's resourceVersion.
 */
import type { PersistentVolumeClaim, Pod, ResourceQuota, Service } from 'kubernetes-types/core/v1.js';
import { objectKey, splitKey, isPodTerminal, type KubeObject } from '../../objects/index.js';
import type { ControllerContext, ControllerSpec, ResourceRef, WorkQueue } from '../runtime/types.js';
import { refs } from '../runtime/resource-refs.js';
import { isNotFound } from '../runtime/api-errors.js';
import { isOtherCountName, lowersUsage, quotaUsage, quotaWithStatus, type NamespaceObjects } from './quota-usage.js';
import { resourceQuotaLimits } from './limits.js';

/** The kinds the typed usage counts, watched through informers. */
const counted = [refs.pods, refs.services, refs.configmaps, refs.secrets, refs.resourcequotas, refs.persistentvolumeclaims] as const;

/** `--resource-quota-sync-period` (the runtime parses durations into `<name>Ms`), no shorter than the floor. */
export function syncPeriodMs(options: ControllerContext['options']): number {
  const given = options['resourceQuotaSyncPeriodMs'];
  return Math.max(typeof given === 'number' && Number.isFinite(given) ? given : resourceQuotaLimits.syncPeriodDefaultMs, resourceQuotaLimits.syncPeriodMinMs);
}

/** The served resource a `count/<resource>[.<group>]` name counts, if kubus serves it. */
function countedRef(name: string): ResourceRef | undefined {
  const what = name.slice('count/'.length);
  const dot = what.indexOf('.');
  const resource = dot < 0 ? what : what.slice(0, dot);
  const group = dot < 0 ? '' : what.slice(dot + 1);
  return Object.values(refs).find((r) => r.resource === resource && r.group === group && r.namespaced);
}

async function listLive<T>(ctx: ControllerContext, resource: ResourceRef, namespace: string): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < resourceQuotaLimits.listPagesMax; page++) {
    const result = await ctx.api.list<T>(resource, { namespace, limit: resourceQuotaLimits.listPageSize, ...(token !== undefined ? { continue: token } : {}) });
    items.push(...result.items);
    token = result.continue;
    if (token === undefined || token === '') return items;
  }
  throw new Error(`resourcequota: ${resource.resource} in ${namespace} has more than ${resourceQuotaLimits.listPagesMax} pages`);
}

/**
 * Counts for the quota's other `count/<resource>.<group>` names: from that resource's informer
 * once it has synced (watch() starts one for every such name a quota uses), else, and always when
 * `live`, from a live list.
 */
async function otherCounts(ctx: ControllerContext, namespace: string, names: readonly string[], live: boolean): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const name of names.filter(isOtherCountName)) {
    const resource = countedRef(name);
    if (resource === undefined) continue;
    const informer = ctx.informers.informer(resource);
    counts.set(name, !live && informer.hasSynced() ? informer.byIndex('namespace', namespace).length : (await listLive(ctx, resource, namespace)).length);
  }
  return counts;
}

async function fromInformers(ctx: ControllerContext, namespace: string, names: readonly string[]): Promise<NamespaceObjects> {
  const inNamespace = <T>(resource: ResourceRef): T[] => ctx.informers.informer(resource).byIndex('namespace', namespace) as unknown as T[];
  return {
    pods: inNamespace<Pod>(refs.pods), services: inNamespace<Service>(refs.services),
    configmaps: inNamespace(refs.configmaps).length, secrets: inNamespace(refs.secrets).length, resourcequotas: inNamespace(refs.resourcequotas).length,
    persistentvolumeclaims: inNamespace<PersistentVolumeClaim>(refs.persistentvolumeclaims),
    otherCounts: await otherCounts(ctx, namespace, names, false),
  };
}

async function fromLiveLists(ctx: ControllerContext, namespace: string, names: readonly string[]): Promise<NamespaceObjects> {
  const [pods, services, configmaps, secrets, resourcequotas, persistentvolumeclaims] = await Promise.all(counted.map((r) => listLive(ctx, r, namespace)));
  return {
    pods: pods as Pod[], services: services as Service[], configmaps: configmaps?.length ?? 0, secrets: secrets?.length ?? 0,
    resourcequotas: resourcequotas?.length ?? 0, persistentvolumeclaims: persistentvolumeclaims as PersistentVolumeClaim[],
    otherCounts: await otherCounts(ctx, namespace, names, true),
  };
}

async function reconcile(key: string, ctx: ControllerContext): Promise<void> {
  const { namespace = '', name } = splitKey(key);
  const cached = ctx.informers.informer(refs.resourcequotas).get(key) as unknown as ResourceQuota | undefined;
  if (cached === undefined) return;
  const names = Object.keys(cached.spec?.hard ?? {});
  let quota = cached;
  let used = quotaUsage(names, await fromInformers(ctx, namespace, names));
  if (lowersUsage(cached.status?.used ?? {}, used)) {
    // The quota first, then the objects: the list's revision is at least the quota's, so every charge the quota holds is in it.
    try {
      quota = await ctx.api.get<ResourceQuota>(refs.resourcequotas, namespace, name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const liveNames = Object.keys(quota.spec?.hard ?? {});
    used = quotaUsage(liveNames, await fromLiveLists(ctx, namespace, liveNames));
  }
  const next = quotaWithStatus(quota, used);
  if (next === null) return;
  await ctx.api.update(refs.resourcequotas, namespace, name, next, { subresource: 'status' });
}

function relevantPodChange(previous: Pod, next: Pod): boolean {
  const resources = (p: Pod): string => JSON.stringify([p.spec?.containers?.map((c) => c.resources), p.spec?.initContainers?.map((c) => c.resources), p.spec?.overhead]);
  return isPodTerminal(previous) !== isPodTerminal(next) || resources(previous) !== resources(next);
}

function watchCounted(ctx: ControllerContext, queue: WorkQueue): Array<() => void> {
  const quotas = ctx.informers.informer(refs.resourcequotas);
  const wakeNamespace = (object: { metadata: { namespace?: string } }): void => {
    for (const quota of quotas.byIndex('namespace', object.metadata.namespace ?? '')) queue.add(objectKey(quota));
  };
  // Resources only some quota counts (`count/deployments.apps`): watched from the first quota that names them.
  const extra = new Map<string, () => void>();
  const watchNamed = (quota: KubeObject): void => {
    for (const name of Object.keys((quota as unknown as ResourceQuota).spec?.hard ?? {}).filter(isOtherCountName)) {
      const resource = countedRef(name);
      if (resource === undefined || extra.has(name)) continue;
      extra.set(name, ctx.informers.informer(resource).addHandlers({ onAdd: wakeNamespace, onDelete: wakeNamespace }));
    }
  };
  const extraCleanup = (): void => { for (const u of extra.values()) u(); };
  return [extraCleanup, quotas.addHandlers({ onAdd: watchNamed, onUpdate: (_p, q) => watchNamed(q) }), ...counted.map((resource) => ctx.informers.informer(resource).addHandlers({
    onAdd: wakeNamespace,
    onDelete: wakeNamespace,
    onUpdate: (previous, next) => {
      if (resource === refs.resourcequotas) queue.add(objectKey(next));
      else if (resource === refs.pods) { if (relevantPodChange(previous as unknown as Pod, next as unknown as Pod)) wakeNamespace(next); }
      else if (resource === refs.services || resource === refs.persistentvolumeclaims) wakeNamespace(next);
    },
  }))];
}

export const resourceQuotaController: ControllerSpec = {
  name: 'resourcequota',
  resource: refs.resourcequotas,
  watch(ctx, queue) {
    const unsubscribe = watchCounted(ctx, queue);
    // The full resync: every quota recounted each period, catching anything an event missed.
    const period = syncPeriodMs(ctx.options);
    let timer = ctx.clock.setTimeout(function resync() {
      for (const quota of ctx.informers.informer(refs.resourcequotas).list()) queue.add(objectKey(quota));
      timer = ctx.clock.setTimeout(resync, period);
    }, period);
    return () => {
      ctx.clock.clearTimeout(timer);
      for (const u of unsubscribe) u();
    };
  },
  reconcile: (key, ctx) => reconcile(key, ctx),
};
