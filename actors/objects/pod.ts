/**
 * Pod facts every component derives the same way: the resources a pod requests (what the
 * scheduler fits and quota counts), its QoS class, readiness and whether it is still active.
 */
import type { Container, Pod, ResourceRequirements } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.js';
import { isConditionTrue } from './conditions.js';

export type ResourceAmounts = Record<string, number>;

function add(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [name, value] of Object.entries(from)) into[name] = (into[name] ?? 0) + value;
}

function max(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [name, value] of Object.entries(from)) into[name] = Math.max(into[name] ?? 0, value);
}

/** A container's requests; a limit without a request counts as the request (API defaulting does the same). */
export function containerRequests(container: Pick<Container, 'resources'>): ResourceAmounts {
  const out: ResourceAmounts = {};
  const resources: ResourceRequirements = container.resources ?? {};
  for (const [name, value] of Object.entries(resources.limits ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined) out[name] = parsed;
  }
  for (const [name, value] of Object.entries(resources.requests ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined) out[name] = parsed;
  }
  return out;
}

/**
 * The pod's effective requests, as Kubernetes' `resourcehelper.PodRequests`: the sum of its
 * containers (and sidecar init containers, restartPolicy Always), at least the largest ordinary
 * init container, plus `spec.overhead`. CPU in cores, memory and storage in bytes.
 */
export function podRequests(pod: Pick<Pod, 'spec'>): ResourceAmounts {
  return aggregatePod(pod, containerRequests, 'always');
}

/**
 * The pod's total of a per-container amount (requests or limits), as Kubernetes'
 * `resourcehelper.PodRequests` / `PodLimits` add them up: the containers and sidecar init
 * containers (restartPolicy Always) summed, at least the largest ordinary init container beside the
 * sidecars started before it, plus `spec.overhead` (for limits only where a limit exists).
 */
export function aggregatePod(pod: Pick<Pod, 'spec'>, perContainer: (container: Pick<Container, 'resources'>) => ResourceAmounts,
  overhead: 'always' | 'whereSet'): ResourceAmounts {
  const spec = pod.spec;
  const total: ResourceAmounts = {};
  if (spec === undefined) return total;
  for (const c of spec.containers ?? []) add(total, perContainer(c));
  const sidecars: ResourceAmounts = {};
  const initMax: ResourceAmounts = {};
  for (const c of spec.initContainers ?? []) {
    const amounts = perContainer(c);
    if (c.restartPolicy === 'Always') {
      add(sidecars, amounts);
      continue;
    }
    // An ordinary init container runs beside the sidecars started before it.
    const during: ResourceAmounts = { ...sidecars };
    add(during, amounts);
    max(initMax, during);
  }
  add(total, sidecars);
  max(total, initMax);
  for (const [name, value] of Object.entries(spec.overhead ?? {})) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined && (overhead === 'always' || total[name] !== undefined)) total[name] = (total[name] ?? 0) + parsed;
  }
  return total;
}

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The QoS class, as Kubernetes' `qos.GetPodQOS` computes it from cpu and memory. */
export function qosClass(pod: Pick<Pod, 'spec'>): QosClass {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const tracked = ['cpu', 'memory'];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const name of tracked) {
      const request = parseQuantity(requests[name] ?? limits[name]);
      const limit = parseQuantity(limits[name]);
      if ((request !== undefined && request !== 0) || (limit !== undefined && limit !== 0)) anySet = true;
      if (limit === undefined || request === undefined || request !== limit) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Ready condition True. */
export function isPodReady(pod: Pick<Pod, 'status'>): boolean {
  return isConditionTrue(pod.status?.conditions, 'Ready');
}

/** Succeeded or Failed: the pod will not run again. */
export function isPodTerminal(pod: Pick<Pod, 'status'>): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Counts toward a controller's replicas: not terminal and not being deleted (Kubernetes' IsPodActive). */
export function isPodActive(pod: Pick<Pod, 'status' | 'metadata'>): boolean {
  return !isPodTerminal(pod) && pod.metadata?.deletionTimestamp === undefined;
}

/** Ready for at least `minReadySeconds` at `nowMs` (Kubernetes' IsPodAvailable). */
export function isPodAvailable(pod: Pick<Pod, 'status'>, minReadySeconds: number, nowMs: number): boolean {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime === undefined ? NaN : Date.parse(ready.lastTransitionTime);
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** `spec.priority`, 0 when unset (admission resolves it from the PriorityClass). */
export function podPriority(pod: Pick<Pod, 'spec'>): number {
  return pod.spec?.priority ?? 0;
}
