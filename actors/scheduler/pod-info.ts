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
}

export interface PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: ResourceAmounts;
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
  return { topologyKey: term.topologyKey, selector: term.labelSelector ?? undefined, namespaces, namespaceSelector: term.namespaceSelector ?? undefined, weight };
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
  return {
    pod,
    key: objectKey(pod),
    namespace,
    labels: pod.metadata?.labels ?? {},
    requests: podRequests(pod),
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
