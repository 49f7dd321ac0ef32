/**
 * `status.qosClass` of a created pod, as Kubernetes' registry sets it: computed once from the
 * containers' cpu and memory requests and limits after every mutating plugin and webhook has run
 * (LimitRanger may have added requests), so the stored class matches the stored resources.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { qosClass } from '../../objects/index.js';

export function withQosClass(pod: Pod): Pod {
  return { ...pod, status: { ...pod.status, qosClass: qosClass(pod) } };
}
