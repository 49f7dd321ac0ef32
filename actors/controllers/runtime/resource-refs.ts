/**
 * The resources the control loops address, by name, so no loop spells a group or version itself.
 * Taken from the API server's own resource table, which is the one truth of what is served.
 */
import { resources } from '../../apiserver/registry/resources.js';
import type { ResourceRef } from './types.js';

function ref(group: string, resource: string): ResourceRef {
  const info = resources.find((r) => r.group === group && r.resource === resource);
  if (info === undefined) throw new Error(`resource-refs: ${group}/${resource} is not served`);
  return { group: info.group, version: info.version, resource: info.resource, namespaced: info.namespaced };
}

/** The kind of a resource (`Pod` for pods), for references the runtime writes (Events). */
export function kindOf(resource: ResourceRef): string {
  return resources.find((r) => r.group === resource.group && r.resource === resource.resource)?.kind ?? resource.resource;
}

export const refs = {
  namespaces: ref('', 'namespaces'),
  nodes: ref('', 'nodes'),
  pods: ref('', 'pods'),
  services: ref('', 'services'),
  endpoints: ref('', 'endpoints'),
  configmaps: ref('', 'configmaps'),
  secrets: ref('', 'secrets'),
  events: ref('', 'events'),
  serviceaccounts: ref('', 'serviceaccounts'),
  persistentvolumes: ref('', 'persistentvolumes'),
  persistentvolumeclaims: ref('', 'persistentvolumeclaims'),
  resourcequotas: ref('', 'resourcequotas'),
  limitranges: ref('', 'limitranges'),
  leases: ref('coordination.k8s.io', 'leases'),
  deployments: ref('apps', 'deployments'),
  replicasets: ref('apps', 'replicasets'),
  horizontalpodautoscalers: ref('autoscaling', 'horizontalpodautoscalers'),
  endpointslices: ref('discovery.k8s.io', 'endpointslices'),
  poddisruptionbudgets: ref('policy', 'poddisruptionbudgets'),
  priorityclasses: ref('scheduling.k8s.io', 'priorityclasses'),
  storageclasses: ref('storage.k8s.io', 'storageclasses'),
} as const satisfies Record<string, ResourceRef>;
