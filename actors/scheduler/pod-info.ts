/**
 * What the scheduler needs of a pod, computed once when the pod enters the cache or the queue
 * (requests, ports, affinity terms), so filters and scores run on numbers, not on parsing.
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { containerRequests, objectKey, podPriority, podRequests, type ResourceAmounts, type StructuredLabelSelector } from '../objects/index.js';

/** Kubernetes' DefaultMilliCPURequest (100m) and DefaultMemoryRequest (200 MiB): what scoring counts for a container that requests nothing. */
export const nonZeroDefaults = { cpu: 0.1, memory: 200 * 1024 * 1024 } as const;

export interface HostPortUse {
  readonly protocol: string;
  readonly hostIP: string;
  readonly port: number;
}

/** A pod affinity term with its namespaces resolved. */
export interface AffinityTerm {
  readonly topologyKey: string;
  readonly selector: StructuredLabelSelector | undefined;
  /** Namespaces named, plus the pod's own when neither names nor a selector are given. */
  readonly namespaces: ReadonlySet<string>;
  /** `namespaceSelector`: `{}` selects every namespace; undefined selects none beyond `namespaces`. */
  readonly namespaceSelector: StructuredLabelSelector | undefined;
  readonly weight: number;
  /** Identical terms of many pods (one Deployment's) share it: the pod index aggregates by it. */
  readonly signature: string;
}

export interface PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: ResourceAmounts;
  readonly cpu: number;
  readonly memory: number;
  /** Requests other than cpu, memory and pods, in Kubernetes' check order (ephemeral storage, then by name). */
  readonly otherRequests: readonly (readonly [string, number])[];
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
  readonly priority: number;
  readonly hostPorts: readonly HostPortUse[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly AffinityTerm[];
  readonly preferredAntiAffinity: readonly AffinityTerm[];
}

function resolveTerm(term: PodAffinityTerm, namespace: string, weight: number): AffinityTerm {
  const named = term.namespaces ?? [];
  const namespaces = new Set(named);
  if (named.length === 0 && term.namespaceSelector === undefined) namespaces.add(namespace);
  const signature = JSON.stringify([term.topologyKey, term.labelSelector ?? null, [...namespaces].sort(), term.namespaceSelector ?? null, weight]);
  return { topologyKey: term.topologyKey, selector: term.labelSelector ?? undefined, namespaces, namespaceSelector: term.namespaceSelector ?? undefined, weight, signature };
}

function resolveWeighted(terms: readonly WeightedPodAffinityTerm[] | undefined, namespace: string): AffinityTerm[] {
  return (terms ?? []).map((t) => resolveTerm(t.podAffinityTerm, namespace, t.weight));
}

function hostPortsOf(pod: Pod): HostPortUse[] {
  const out: HostPortUse[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []).filter((i) => i.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      out.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP === undefined || p.hostIP === '' ? '0.0.0.0' : p.hostIP, port: p.hostPort });
    }
  }
  return out;
}

function nonZero(pod: Pod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c);
    cpu += r['cpu'] ?? nonZeroDefaults.cpu;
    memory += r['memory'] ?? nonZeroDefaults.memory;
  }
  return { cpu, memory };
}

export function podInfo(pod: Pod): PodInfo {
  const namespace = pod.metadata?.namespace ?? 'default';
  const affinity = pod.spec?.affinity;
  const z = nonZero(pod);
  const requests = podRequests(pod);
  const otherRequests = Object.entries(requests)
    .filter(([name, value]) => value > 0 && name !== 'cpu' && name !== 'memory' && name !== 'pods')
    .sort(([a], [b]) => (a === 'ephemeral-storage' ? -1 : b === 'ephemeral-storage' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return {
    pod,
    key: objectKey(pod),
    namespace,
    labels: pod.metadata?.labels ?? {},
    requests,
    cpu: requests['cpu'] ?? 0,
    memory: requests['memory'] ?? 0,
    otherRequests,
    nonZeroCpu: z.cpu,
    nonZeroMemory: z.memory,
    priority: podPriority(pod),
    hostPorts: hostPortsOf(pod),
    requiredAffinity: (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => resolveTerm(t, namespace, 1)),
    requiredAntiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => resolveTerm(t, namespace, 1)),
    preferredAffinity: resolveWeighted(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, namespace),
    preferredAntiAffinity: resolveWeighted(affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, namespace),
  };
}

export function hasAnyAffinity(info: PodInfo): boolean {
  return info.requiredAffinity.length + info.requiredAntiAffinity.length + info.preferredAffinity.length + info.preferredAntiAffinity.length > 0;
}
