/**
 * The cloud-node and cloud-node-lifecycle controllers' decisions, as pure functions: what a
 * Node gets from its instance's metadata, and what a NotReady Node's instance state means.
 * Names and rules of Kubernetes' cloud-provider (`cloudNodeController.syncNode`,
 * `CloudNodeLifecycleController.MonitorNodes`).
 */
import type { NodeAddress, Node, Taint } from 'kubernetes-types/core/v1.js';
import type { InstanceMetadata } from '../provider.js';

/** Set by a kubelet started with an external cloud provider until the cloud-node controller has initialised the Node. */
export const uninitializedTaintKey = 'node.cloudprovider.kubernetes.io/uninitialized';
/** Set on a NotReady Node whose instance is shut down (not gone): it is kept, but nothing new lands on it. */
export const shutdownTaint: Taint = { key: 'node.cloudprovider.kubernetes.io/shutdown', effect: 'NoSchedule' };

export const topologyLabels = {
  zone: 'topology.kubernetes.io/zone',
  region: 'topology.kubernetes.io/region',
  instanceType: 'node.kubernetes.io/instance-type',
} as const;

export function isUninitialized(node: Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.key === uninitializedTaintKey);
}

/** What the Node lacks of what the cloud knows: decides whether an update event deserves a provider call. */
export function needsInitialization(node: Node): boolean {
  return isUninitialized(node) || (node.spec?.providerID ?? '') === '';
}

export interface NodeChanges {
  /** Written to spec.providerID (only when the Node has none: Kubernetes never changes a set one). */
  readonly providerID: string | undefined;
  /** Labels to set (only those that differ). */
  readonly labels: Readonly<Record<string, string>>;
  /** The new status.addresses, when they differ. */
  readonly addresses: readonly NodeAddress[] | undefined;
  readonly removeUninitializedTaint: boolean;
}

export function nodeChanges(node: Node, metadata: InstanceMetadata): NodeChanges {
  const current = node.metadata?.labels ?? {};
  const wanted: Record<string, string> = { ...(metadata.additionalLabels ?? {}) };
  if (metadata.zone !== '') wanted[topologyLabels.zone] = metadata.zone;
  if (metadata.region !== '') wanted[topologyLabels.region] = metadata.region;
  if (metadata.instanceType !== '') wanted[topologyLabels.instanceType] = metadata.instanceType;
  const labels = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => current[key] !== value));
  const addresses = mergeAddresses(node.status?.addresses ?? [], metadata.nodeAddresses);
  const changed = JSON.stringify(addresses) !== JSON.stringify(node.status?.addresses ?? []);
  return {
    providerID: (node.spec?.providerID ?? '') === '' && metadata.providerID !== '' ? metadata.providerID : undefined,
    labels,
    addresses: changed ? addresses : undefined,
    removeUninitializedTaint: isUninitialized(node),
  };
}

export function hasSpecChanges(changes: NodeChanges): boolean {
  return changes.providerID !== undefined || Object.keys(changes.labels).length > 0 || changes.removeUninitializedTaint;
}

/** The Node with its providerID, labels and taints changed (the status is written separately, first). */
export function withSpecChanges<N extends Node>(node: N, changes: NodeChanges): N {
  const taints = (node.spec?.taints ?? []).filter((t) => !(changes.removeUninitializedTaint && t.key === uninitializedTaintKey));
  return {
    ...node,
    metadata: { ...node.metadata, labels: { ...(node.metadata?.labels ?? {}), ...changes.labels } },
    spec: { ...node.spec, ...(changes.providerID !== undefined ? { providerID: changes.providerID } : {}), taints },
  };
}

/**
 * The cloud's addresses, behind the InternalIPs the agent reported that the cloud does not list.
 * Decision: kubus agents serve NodePorts on their `--node-ip` and report it as InternalIP; a
 * balancer sends traffic to a Node's first InternalIP, so that address stays first (Kubernetes
 * keeps a kubelet's `--node-ip` the same way). No cloud addresses: the Node's are kept.
 */
export function mergeAddresses(current: readonly NodeAddress[], cloud: readonly NodeAddress[]): NodeAddress[] {
  if (cloud.length === 0) return [...current];
  const seen = new Set<string>();
  const result: NodeAddress[] = [];
  const agentIps = current.filter((a) => a.type === 'InternalIP' && !cloud.some((c) => c.type === 'InternalIP' && c.address === a.address));
  for (const address of [...agentIps, ...cloud]) {
    const id = `${address.type}/${address.address}`;
    if (seen.has(id)) continue;
    seen.add(id);
    result.push({ type: address.type, address: address.address });
  }
  return result;
}

export function readyStatus(node: Node): string | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
}

export function hasShutdownTaint(node: Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.key === shutdownTaint.key && t.effect === shutdownTaint.effect);
}

/** What one lifecycle pass does about a Node before asking the cloud anything. */
export type LifecycleFirstStep = 'none' | 'removeShutdownTaint' | 'askCloud';

export function lifecycleFirstStep(node: Node): LifecycleFirstStep {
  if (readyStatus(node) === 'True') return hasShutdownTaint(node) ? 'removeShutdownTaint' : 'none';
  return 'askCloud';
}

/**
 * After asking the cloud about a NotReady Node: a shut-down instance gets the shutdown taint and
 * is kept (it may start again); an instance that no longer exists takes its Node with it.
 * `exists` is asked only when the instance is not shut down (undefined: not asked yet).
 */
export type LifecycleVerdict = 'taintShutdown' | 'keep' | 'delete' | 'askExists';

export function lifecycleVerdict(node: Node, answers: { readonly shutdown: boolean; readonly exists?: boolean }): LifecycleVerdict {
  if (answers.shutdown) return hasShutdownTaint(node) ? 'keep' : 'taintShutdown';
  if (answers.exists === undefined) return 'askExists';
  return answers.exists ? 'keep' : 'delete';
}
