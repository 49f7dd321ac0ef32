/**
 * Which Services select a pod: what a pod event wakes in the Endpoints and EndpointSlice
 * controllers. Services without a selector have user-managed endpoints and never select a pod; an
 * empty selector counts as none, since Kubernetes' API drops an empty map when it stores the Service.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { objectKey, selectorMatches } from '../../objects/index.js';
import type { Informer } from '../runtime/types.js';

/** Does the Service manage its endpoints from a selector (false: the user writes them)? */
export function hasSelector(service: Pick<Service, 'spec'>): boolean {
  const selector = service.spec?.selector;
  return selector !== undefined && selector !== null && Object.keys(selector).length > 0;
}

export function serviceSelects(service: Pick<Service, 'spec'>, labels: Readonly<Record<string, string>> | undefined): boolean {
  return hasSelector(service) && selectorMatches({ matchLabels: service.spec?.selector ?? {} }, labels ?? {});
}

/** Keys of the Services in the pod's namespace that select it (with either of its label sets, for a relabelled pod). */
export function servicesSelecting(services: Informer, pod: Pod, previous?: Pod): string[] {
  const namespace = pod.metadata?.namespace ?? '';
  const keys: string[] = [];
  for (const object of services.byIndex('namespace', namespace)) {
    const service = object as unknown as Service;
    if (serviceSelects(service, pod.metadata?.labels) || (previous !== undefined && serviceSelects(service, previous.metadata?.labels))) keys.push(objectKey(object));
  }
  return keys;
}
