/**
 * One node as the scheduler sees it: allocatable, what its pods (bound and assumed) request, its
 * used host ports and its pods. Kept up to date incrementally by the cluster cache; the decision
 * function only reads it.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { parseQuantity, type ResourceAmounts, type Taint } from '../objects/index.js';
import type { HostPortUse, PodInfo } from './pod-info.js';
import { hasAnyAffinity } from './pod-info.js';

function allocatableOf(node: Node): ResourceAmounts {
  const out: ResourceAmounts = {};
  const source = node.status?.allocatable ?? node.status?.capacity ?? {};
  for (const [name, value] of Object.entries(source)) {
    const parsed = parseQuantity(value);
    if (parsed !== undefined) out[name] = parsed;
  }
  return out;
}

export class NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly allocatable: ResourceAmounts;
  readonly requested: ResourceAmounts = {};
  /** cpu, memory and pods as plain fields: every decision reads them on hundreds of nodes. */
  readonly allocatableCpu: number;
  readonly allocatableMemory: number;
  readonly allocatablePods: number;
  requestedCpu = 0;
  requestedMemory = 0;
  nonZeroCpu = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** `protocol/port` → the host IPs using it (0.0.0.0 meaning all). */
  readonly usedPorts = new Map<string, string[]>();
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;

  constructor(readonly node: Node) {
    this.name = node.metadata?.name ?? '';
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = allocatableOf(node);
    this.allocatableCpu = this.allocatable['cpu'] ?? 0;
    this.allocatableMemory = this.allocatable['memory'] ?? 0;
    this.allocatablePods = this.allocatable['pods'] ?? 0;
  }

  addPod(info: PodInfo): void {
    if (this.pods.has(info.key)) this.removePod(info.key);
    this.pods.set(info.key, info);
    for (const [name, value] of Object.entries(info.requests)) this.requested[name] = (this.requested[name] ?? 0) + value;
    this.requestedCpu += info.cpu;
    this.requestedMemory += info.memory;
    this.nonZeroCpu += info.nonZeroCpu;
    this.nonZeroMemory += info.nonZeroMemory;
    for (const p of info.hostPorts) {
      const key = portKey(p);
      const ips = this.usedPorts.get(key);
      if (ips === undefined) this.usedPorts.set(key, [p.hostIP]);
      else ips.push(p.hostIP);
    }
    if (hasAnyAffinity(info)) this.podsWithAffinity++;
    if (info.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity++;
  }

  removePod(key: string): PodInfo | undefined {
    const info = this.pods.get(key);
    if (info === undefined) return undefined;
    this.pods.delete(key);
    for (const [name, value] of Object.entries(info.requests)) this.requested[name] = (this.requested[name] ?? 0) - value;
    this.requestedCpu -= info.cpu;
    this.requestedMemory -= info.memory;
    this.nonZeroCpu -= info.nonZeroCpu;
    this.nonZeroMemory -= info.nonZeroMemory;
    for (const p of info.hostPorts) {
      const ips = this.usedPorts.get(portKey(p));
      if (ips === undefined) continue;
      const at = ips.indexOf(p.hostIP);
      if (at >= 0) ips.splice(at, 1);
      if (ips.length === 0) this.usedPorts.delete(portKey(p));
    }
    if (hasAnyAffinity(info)) this.podsWithAffinity--;
    if (info.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity--;
    return info;
  }

  /** A copy with the same node and pods, for preemption's what-if evaluation. */
  clone(): NodeInfo {
    const copy = new NodeInfo(this.node);
    for (const info of this.pods.values()) copy.addPod(info);
    return copy;
  }
}

export function portKey(p: Pick<HostPortUse, 'protocol' | 'port'>): string {
  return `${p.protocol}/${p.port}`;
}
