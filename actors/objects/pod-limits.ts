/**
 * A pod's effective limits, as Kubernetes' `resourcehelper.PodLimits` (what ResourceQuota's
 * `limits.*` counts): the containers' sum, at least the largest init container beside the
 * sidecars started before it, with `spec.overhead` added only to resources that have a limit.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.js';
import { aggregatePod, type ResourceAmounts } from './pod.js';

function limitsOf(container: { readonly resources?: { readonly limits?: Record<string, unknown> } | undefined }): ResourceAmounts {
  const out: ResourceAmounts = {};
  for (const [name, value] of Object.entries(container.resources?.limits ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined) out[name] = parsed;
  }
  return out;
}

export function podLimits(pod: Pick<Pod, 'spec'>): ResourceAmounts {
  return aggregatePod(pod, limitsOf, 'whereSet');
}
