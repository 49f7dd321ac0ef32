/**
 * The Node object this agent registers and keeps, as pure functions of what the host and the
 * runtime report: labels, capacity and allocatable (capacity − `--system-reserved`), addresses,
 * nodeInfo and the four conditions the kubelet sets (Ready, MemoryPressure, DiskPressure,
 * PIDPressure).
 *
 * Decision: when the runtime cannot enforce resource limits (cgroups not writable), the Node says
 * so in two places: the annotation `kubus.io/resource-limits-enforced: "false"` (for tools) and a
 * sentence at the end of the Ready condition's message (for `kubectl describe node`); the node
 * stays Ready, as pods still run.
 */
import type { Node, NodeAddress, NodeCondition, NodeSystemInfo, Taint } from 'kubernetes-types/core/v1.js';
import { formatQuantity, parseQuantity } from '../../actors/objects/quantity.js';
import { setCondition } from '../../actors/objects/conditions.js';
import type { RuntimeStatus } from '../runtime/types.js';
import type { HostFacts } from './host.js';
import type { Pressure } from './host-readings.js';

/** What the kubelet reports when the API's /version cannot be read: the Kubernetes API level kubus serves. */
export const defaultKubeletVersion = 'v1.32.0-kubus';
export const resourceLimitsAnnotation = 'kubus.io/resource-limits-enforced';

export interface NodeFacts {
  readonly nodeName: string;
  readonly host: HostFacts;
  readonly nodeIp: string;
  readonly runtime: { readonly name: string; readonly version: string };
  readonly kubeletVersion: string;
  readonly maxPods: number;
  readonly systemReserved: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

/** The labels this agent owns on its Node: the well-known three plus `--labels`. */
export function ownedLabels(facts: NodeFacts): Record<string, string> {
  return {
    'kubernetes.io/hostname': facts.nodeName,
    'kubernetes.io/os': facts.host.operatingSystem,
    'kubernetes.io/arch': facts.host.architecture,
    ...facts.labels,
  };
}

/** Memory and storage in Ki as the kubelet prints them (cpu in whole cores, pods as a count). */
export function capacityOf(facts: NodeFacts): Record<string, string> {
  const kib = (bytes: number): string => `${Math.floor(bytes / 1024)}Ki`;
  return {
    cpu: String(facts.host.cpuCores),
    memory: kib(facts.host.memoryBytes),
    'ephemeral-storage': kib(facts.host.diskBytes),
    pods: String(facts.maxPods),
  };
}

/** capacity − reserved per resource, never below zero; resources only reserved are ignored. */
export function allocatableOf(capacity: Readonly<Record<string, string>>, reserved: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [resource, value] of Object.entries(capacity)) {
    const total = parseQuantity(value) ?? 0;
    const minus = parseQuantity(reserved[resource]) ?? 0;
    result[resource] = minus === 0 ? value : formatQuantity(Math.max(0, total - minus), resource);
  }
  return result;
}

export function addressesOf(facts: NodeFacts): NodeAddress[] {
  return [{ type: 'InternalIP', address: facts.nodeIp }, { type: 'Hostname', address: facts.host.hostname }];
}

export function nodeInfoOf(facts: NodeFacts): NodeSystemInfo {
  const { host } = facts;
  return {
    machineID: host.machineID, systemUUID: host.systemUUID, bootID: host.bootID,
    kernelVersion: host.kernelVersion, osImage: host.osImage,
    containerRuntimeVersion: `${facts.runtime.name}://${facts.runtime.version}`,
    kubeletVersion: facts.kubeletVersion, kubeProxyVersion: '',
    operatingSystem: host.operatingSystem, architecture: host.architecture,
  };
}

/** The Ready condition from the runtime's status (runtime and network ready). */
export function readyCondition(runtime: RuntimeStatus | null): Omit<NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'> {
  if (runtime === null) return { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime status check failed: no answer from the runtime' };
  const problems = [
    ...(runtime.runtimeReady ? [] : ['container runtime is down']),
    ...(runtime.networkReady ? [] : ['container runtime network not ready']),
  ];
  const limits = runtime.resourceLimitsEnforced ? '' : '; resource limits are not enforced on this host (cgroups not writable)';
  if (problems.length > 0) {
    return { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: `${problems.join(', ')}${runtime.message !== null ? `: ${runtime.message}` : ''}${limits}` };
  }
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: `kubelet is posting ready status${limits}` };
}

/**
 * The four conditions, transition times kept from `previous` where the status did not change,
 * heartbeat set to `now` (the moment this status is written).
 */
export function nodeConditions(previous: readonly NodeCondition[] | undefined, runtime: RuntimeStatus | null, pressures: readonly Pressure[], now: string): NodeCondition[] {
  const next: Omit<NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'>[] = [
    ...pressures.map((p) => ({ type: p.type, status: p.pressure ? 'True' : 'False', reason: p.reason, message: p.message })),
    readyCondition(runtime),
  ];
  let conditions = [...(previous ?? [])];
  for (const condition of next) {
    const prior = conditions.find((c) => c.type === condition.type);
    const keepTransition = prior !== undefined && prior.status === condition.status ? prior.lastTransitionTime : undefined;
    conditions = setCondition(conditions, { ...condition, lastHeartbeatTime: now, ...(keepTransition !== undefined ? { lastTransitionTime: keepTransition } : {}) }, now);
  }
  return conditions;
}

/**
 * The addresses the agent reports: its own, unless a cloud provider initialised the Node (it set
 * spec.providerID) and the Node holds addresses: then they are the cloud's (Kubernetes' kubelet
 * with an external cloud provider leaves them to the cloud node controller), and rewriting them
 * would flap against that controller.
 */
export function addressesToReport(current: Pick<Node, 'spec' | 'status'> | null, own: NodeAddress[]): NodeAddress[] {
  const held = current?.status?.addresses ?? [];
  return (current?.spec?.providerID ?? '') !== '' && held.length > 0 ? held : own;
}

/** The status the agent writes, conditions included. */
export function nodeStatusOf(facts: NodeFacts, conditions: NodeCondition[]): NonNullable<Node['status']> {
  const capacity = capacityOf(facts);
  return {
    capacity, allocatable: allocatableOf(capacity, facts.systemReserved),
    addresses: addressesOf(facts), nodeInfo: nodeInfoOf(facts), conditions,
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
  };
}

/** The Node to create when none exists. */
export function newNode(facts: NodeFacts, limitsEnforced: boolean): Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: facts.nodeName, labels: ownedLabels(facts), annotations: { [resourceLimitsAnnotation]: String(limitsEnforced) } },
    spec: facts.taints.length > 0 ? { taints: [...facts.taints] } : {},
  };
}

/**
 * Taking over a Node that exists (a restarted agent, or a re-joined host): a merge patch of our
 * labels and annotation only, so labels and annotations others set stay. Taints are not patched:
 * NodeRestriction lets a node set them only when it creates itself (as Kubernetes), so a
 * difference is reported for an administrator to fix with `kubectl taint`.
 */
export function takeoverPatch(existing: Node, facts: NodeFacts, limitsEnforced: boolean): { patch: Record<string, unknown> | null; taintsDiffer: boolean } {
  const labels = ownedLabels(facts);
  const current = existing.metadata?.labels ?? {};
  const changedLabels = Object.fromEntries(Object.entries(labels).filter(([key, value]) => current[key] !== value));
  const annotation = String(limitsEnforced);
  const annotationChanged = existing.metadata?.annotations?.[resourceLimitsAnnotation] !== annotation;
  const key = (t: Taint): string => `${t.key}=${t.value ?? ''}:${t.effect}`;
  const have = new Set((existing.spec?.taints ?? []).map(key));
  const taintsDiffer = facts.taints.some((t) => !have.has(key(t)));
  if (Object.keys(changedLabels).length === 0 && !annotationChanged) return { patch: null, taintsDiffer };
  return {
    patch: { metadata: { ...(Object.keys(changedLabels).length > 0 ? { labels: changedLabels } : {}), ...(annotationChanged ? { annotations: { [resourceLimitsAnnotation]: annotation } } : {}) } },
    taintsDiffer,
  };
}
