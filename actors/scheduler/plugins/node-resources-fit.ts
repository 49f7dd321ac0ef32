/**
 * NodeResourcesFit: the pod's requests (podRequests: containers summed, at least the largest init
 * container, plus overhead) and one more pod must fit in allocatable minus what the node's pods
 * (bound and assumed) request. Scoring: LeastAllocated on cpu and memory, counting a container
 * without requests as 100m / 200Mi as Kubernetes does, and BalancedAllocation.
 */
import { type FilterFailure, type FilterPlugin, type ScorePlugin } from '../framework.js';

const name = 'NodeResourcesFit';
/** Quantities are floats (cores, bytes): 0.1 + 0.2 must still fit in 0.3. */
const epsilon = 1e-9;
const tooManyPods = 'Too many pods';

export const nodeResourcesFit: FilterPlugin = {
  name,
  prepare(pod) {
    const cpu = pod.cpu;
    const memory = pod.memory;
    const others = pod.otherRequests;
    return (node) => {
      let reasons: string[] | undefined;
      if (node.pods.size + 1 > node.allocatablePods) reasons = [tooManyPods];
      if (cpu > 0 && cpu > node.allocatableCpu - node.requestedCpu + epsilon) (reasons ??= []).push('Insufficient cpu');
      if (memory > 0 && memory > node.allocatableMemory - node.requestedMemory + epsilon) (reasons ??= []).push('Insufficient memory');
      for (const [resource, value] of others) {
        const free = (node.allocatable[resource] ?? 0) - (node.requested[resource] ?? 0);
        if (value > free + epsilon) (reasons ??= []).push(`Insufficient ${resource}`);
      }
      return reasons === undefined ? undefined : ({ plugin: name, code: 'Unschedulable', reasons } satisfies FilterFailure);
    };
  },
};

export const leastAllocated: ScorePlugin = {
  name,
  weight: 1,
  score(pod, nodes) {
    const scores = new Float64Array(nodes.length);
    nodes.forEach((node, i) => {
      const cpu = leastAllocatedOf(node.nonZeroCpu + pod.nonZeroCpu, node.allocatableCpu);
      const memory = leastAllocatedOf(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
      scores[i] = Math.trunc((cpu + memory) / 2);
    });
    return scores;
  },
};

function leastAllocatedOf(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * 100) / capacity);
}

export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(pod, nodes) {
    const podCpu = pod.cpu;
    const podMemory = pod.memory;
    // Kubernetes skips best-effort pods: they change no fraction.
    if (podCpu === 0 && podMemory === 0) return undefined;
    const scores = new Float64Array(nodes.length);
    nodes.forEach((node, i) => {
      const cpu = fraction(node.requestedCpu + podCpu, node.allocatableCpu);
      const memory = fraction(node.requestedMemory + podMemory, node.allocatableMemory);
      const std = Math.abs(cpu - memory) / 2;
      scores[i] = Math.trunc((1 - std) * 100);
    });
    return scores;
  },
};

function fraction(requested: number, capacity: number): number {
  if (capacity <= 0) return 1;
  return Math.min(1, requested / capacity);
}
