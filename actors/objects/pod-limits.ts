/**
 * A pod's effective limits, as Kubernetes' `resourcehelper.PodLimits` (what ResourceQuota's
 * `limits.*` counts): the containers' sum, at least the largest init container beside the
 * sidecars started before it, with `spec.overhead` added only to resources that have a limit.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.js';
import type { ResourceAmounts } from './pod.js';

function limitsOf(container: { readonly resources?: { readonly limits?: Record<string, unknown> } | undefined }): ResourceAmounts {
  const out: ResourceAmounts = {};
  for (const [name, value] of Object.entries(container.resources?.limits ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined) out[name] = parsed;
  }
  return out;
}

function addInto(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [name, value] of Object.entries(from)) into[name] = (into[name] ?? 0) + value;
}

function maxInto(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [name, value] of Object.entries(from)) into[name] = Math.max(into[name] ?? 0, value);
}

export function podLimits(pod: Pick<Pod, 'spec'>): ResourceAmounts {
  const spec = pod.spec;
  const total: ResourceAmounts = {};
  if (spec === undefined) return total;
  for (const c of spec.containers ?? []) addInto(total, limitsOf(c));
  const sidecars: ResourceAmounts = {};
  const initMax: ResourceAmounts = {};
  for (const c of spec.initContainers ?? []) {
    const limits = limitsOf(c);
    if (c.restartPolicy === 'Always') {
      addInto(total, limits);
      addInto(sidecars, limits);
      maxInto(initMax, sidecars);
      continue;
    }
    const during: ResourceAmounts = { ...limits };
    addInto(during, sidecars);
    maxInto(initMax, during);
  }
  maxInto(total, initMax);
  for (const [name, value] of Object.entries(spec.overhead ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined && total[name] !== undefined) total[name] += parsed;
  }
  return total;
}
