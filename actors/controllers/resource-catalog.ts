/**
 * The served resources as the cluster-wide sweepers see them (the garbage collector, the namespace
 * controller): one ref per resource (its preferred, first-listed version), and the resource an
 * ownerReference's `apiVersion`/`kind` names. Read from the API server's own resource table, the
 * one truth of what is served, as Kubernetes' controllers read discovery.
 */
import { resources, type ResourceInfo } from '../apiserver/registry/resources.js';
import type { ResourceRef } from './runtime/types.js';

/** Not tracked by the garbage collector, as Kubernetes' default `--ignored-resources` (events are many and short-lived). */
const garbageCollectorIgnored: readonly string[] = ['/events'];

function toRef(info: ResourceInfo): ResourceRef {
  return { group: info.group, version: info.version, resource: info.resource, namespaced: info.namespaced };
}

/** First (preferred) version of each group/resource. */
function preferred(): ResourceInfo[] {
  const seen = new Set<string>();
  const out: ResourceInfo[] = [];
  for (const info of resources) {
    const id = `${info.group}/${info.resource}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(info);
  }
  return out;
}

const canSweep = (info: ResourceInfo): boolean => ['list', 'watch', 'delete'].every((verb) => info.verbs.includes(verb));

/** What the garbage collector watches: every listable, deletable resource but the ignored ones. */
export function garbageCollectedResources(): ResourceRef[] {
  return preferred().filter((info) => canSweep(info) && !garbageCollectorIgnored.includes(`${info.group}/${info.resource}`)).map(toRef);
}

/** What the namespace controller empties: every namespaced resource it can list and delete. */
export function namespacedContentResources(): ResourceRef[] {
  return preferred().filter((info) => info.namespaced && info.verbs.includes('list') && info.verbs.includes('delete')).map(toRef);
}

/**
 * group/kind → preferred ref, built once: the collector resolves an owner on every informer event.
 * Any served version of the group will do: the object is the same whichever version reads it.
 */
const byGroupKind: ReadonlyMap<string, ResourceRef> = new Map(preferred().map((info) => [`${info.group}/${info.kind}`, toRef(info)]));

/** The resource an ownerReference names (`apps/v1` + `ReplicaSet`), or undefined when no served resource has that kind. */
export function resourceForKind(apiVersion: string, kind: string): ResourceRef | undefined {
  const slash = apiVersion.indexOf('/');
  return byGroupKind.get(`${slash < 0 ? '' : apiVersion.slice(0, slash)}/${kind}`);
}

/** `pods`, `replicasets.apps`: a resource as Kubernetes' GroupResource prints it. */
export function groupResourceName(ref: ResourceRef): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}
