/**
 * Priority admission, as Kubernetes' `Priority` plugin. For a pod create: `priorityClassName`
 * resolves to `spec.priority` and `spec.preemptionPolicy` (the globalDefault class when none is
 * named, else priority 0 and PreemptLowerPriority); an unknown class, or a priority or policy
 * written in the pod that disagrees with its class, is refused with 403 and Kubernetes' message.
 * For a PriorityClass create or update: only one class may be the global default.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { apiErrors } from '../status.js';

/** Kubernetes' `DefaultPriorityWhenNoDefaultClassExists`. */
export const priorityWhenNoDefaultClass = 0;
const preemptLowerPriority = 'PreemptLowerPriority';

/**
 * The global default class; when a race left several, the lowest value, as Kubernetes picks it
 * (the least surprising of the defaults an admin wrote).
 */
export function globalDefaultClass(classes: readonly PriorityClass[]): PriorityClass | undefined {
  let found: PriorityClass | undefined;
  for (const pc of classes) {
    if (pc.globalDefault === true && (found === undefined || pc.value < found.value)) found = pc;
  }
  return found;
}

/** What the pod as written asked for, before defaulting could fill it in. */
export interface RequestedPriority {
  readonly priority: number | undefined;
  readonly preemptionPolicy: string | undefined;
}

export function admitPodPriority(pod: Pod, requested: RequestedPriority, classes: readonly PriorityClass[]): Pod {
  const podName = pod.metadata?.name ?? '';
  const className = pod.spec?.priorityClassName ?? '';
  let resolved: { name: string; value: number; policy: string };
  if (className === '') {
    const fallback = globalDefaultClass(classes);
    resolved = fallback === undefined
      ? { name: '', value: priorityWhenNoDefaultClass, policy: preemptLowerPriority }
      : { name: fallback.metadata?.name ?? '', value: fallback.value, policy: fallback.preemptionPolicy ?? preemptLowerPriority };
  } else {
    const found = classes.find((pc) => pc.metadata?.name === className);
    if (found === undefined) throw apiErrors.forbidden(`pods "${podName}" is forbidden: no PriorityClass with name ${className} was found`);
    resolved = { name: className, value: found.value, policy: found.preemptionPolicy ?? preemptLowerPriority };
  }
  if (requested.priority !== undefined && requested.priority !== resolved.value) {
    throw apiErrors.forbidden(`pods "${podName}" is forbidden: the integer value of priority (${requested.priority}) must not be provided in pod spec; priority admission controller computed ${resolved.value} from the given PriorityClass name`);
  }
  if (requested.preemptionPolicy !== undefined && requested.preemptionPolicy !== resolved.policy) {
    throw apiErrors.forbidden(`pods "${podName}" is forbidden: the string value of PreemptionPolicy (${requested.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${resolved.policy} from the given PriorityClass name`);
  }
  const spec = { containers: [], ...pod.spec, priority: resolved.value, preemptionPolicy: resolved.policy };
  if (resolved.name !== '') spec.priorityClassName = resolved.name;
  return { ...pod, spec };
}

/** A second global default is refused (403), as Kubernetes' plugin does on create and update. */
export function admitPriorityClass(pc: PriorityClass, operation: 'CREATE' | 'UPDATE', classes: readonly PriorityClass[]): void {
  if (pc.globalDefault !== true) return;
  const current = globalDefaultClass(classes);
  const name = pc.metadata?.name ?? '';
  if (current === undefined) return;
  if (operation === 'CREATE' || current.metadata?.name !== name) {
    throw apiErrors.forbidden(`priorityclasses.scheduling.k8s.io "${name}" is forbidden: PriorityClass ${current.metadata?.name ?? ''} is already marked as default. Only one default can exist`);
  }
}
