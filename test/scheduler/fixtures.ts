/** Builders of Node and Pod objects for the scheduler's tests and benchmark: only the fields a test means. */
import type { Container, Node, Pod, Taint } from 'kubernetes-types/core/v1.js';

export function node(name: string, options: { cpu?: string; memory?: string; pods?: number; labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean } = {}): Node {
  const allocatable = { cpu: options.cpu ?? '4', memory: options.memory ?? '8Gi', pods: String(options.pods ?? 110) };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(options.labels ?? {}) } },
    spec: { ...(options.taints ? { taints: options.taints } : {}), ...(options.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function pod(name: string, options: {
  cpu?: string; memory?: string; namespace?: string; labels?: Record<string, string>; nodeName?: string; priority?: number;
  hostPort?: number; spec?: Partial<Pod['spec']>; created?: string; containers?: Container[];
} = {}): Pod {
  const requests: Record<string, string> = {};
  if (options.cpu !== undefined) requests['cpu'] = options.cpu;
  if (options.memory !== undefined) requests['memory'] = options.memory;
  const container: Container = {
    name: 'c', image: 'busybox',
    ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}),
    ...(options.hostPort !== undefined ? { ports: [{ containerPort: 80, hostPort: options.hostPort }] } : {}),
  };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', uid: `uid-${name}`, labels: options.labels ?? {}, creationTimestamp: options.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      containers: options.containers ?? [container],
      ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.spec ?? {}),
    },
    status: { phase: options.nodeName !== undefined ? 'Running' : 'Pending' },
  };
}
