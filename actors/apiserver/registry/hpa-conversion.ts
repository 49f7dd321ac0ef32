/**
 * HorizontalPodAutoscaler between autoscaling/v1 and autoscaling/v2, the one resource kubus
 * serves in two versions.
 *
 * Decision: v2 is the storage version (as in Kubernetes): a v1 object is converted to v2 before
 * it is stored and every read through a v1 URL converts back. v1 can express only a CPU
 * utilization target; what it cannot express (other metrics, behavior, conditions, other current
 * metrics) travels in `autoscaling.alpha.kubernetes.io/*` annotations, the same names Kubernetes
 * uses, so a v1 client that reads, changes and writes back an object loses nothing. The annotation
 * values are v2 JSON (Kubernetes writes its own v1-alpha shape there); only kubus reads them.
 */
import type { KubeObject } from '../types.js';

type Obj = Record<string, unknown>;

const annotation = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
} as const;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

function isCpuUtilization(metric: unknown, side: 'target' | 'current'): metric is Obj {
  if (!isObj(metric) || metric['type'] !== 'Resource' || !isObj(metric['resource'])) return false;
  const resource = metric['resource'];
  const value = resource[side];
  return resource['name'] === 'cpu' && isObj(value) && typeof value['averageUtilization'] === 'number'
    && (side === 'current' || value['type'] === 'Utilization');
}

function utilization(metric: Obj, side: 'target' | 'current'): number {
  return ((metric['resource'] as Obj)[side] as Obj)['averageUtilization'] as number;
}

/** A stored (v2) HPA as autoscaling/v1 shows it. */
export function hpaToV1(object: KubeObject): KubeObject {
  const { spec: rawSpec, status: rawStatus, ...rest } = object as KubeObject & { spec?: unknown; status?: unknown };
  const annotations: Record<string, string> = { ...object.metadata.annotations };
  const out: KubeObject & Obj = { ...rest, metadata: { ...object.metadata } };
  if (isObj(rawSpec)) {
    const { metrics, behavior, ...spec } = rawSpec;
    const list = Array.isArray(metrics) ? metrics : [];
    const cpu = list.find((m) => isCpuUtilization(m, 'target'));
    const others = list.filter((m) => m !== cpu);
    if (cpu !== undefined) spec['targetCPUUtilizationPercentage'] = utilization(cpu, 'target');
    if (others.length > 0) annotations[annotation.metrics] = JSON.stringify(others);
    if (behavior !== undefined) annotations[annotation.behavior] = JSON.stringify(behavior);
    out['spec'] = spec;
  }
  if (isObj(rawStatus)) {
    const { currentMetrics, conditions, ...status } = rawStatus;
    const list = Array.isArray(currentMetrics) ? currentMetrics : [];
    const cpu = list.find((m) => isCpuUtilization(m, 'current'));
    const others = list.filter((m) => m !== cpu);
    if (cpu !== undefined) status['currentCPUUtilizationPercentage'] = utilization(cpu, 'current');
    if (others.length > 0) annotations[annotation.currentMetrics] = JSON.stringify(others);
    if (Array.isArray(conditions) && conditions.length > 0) annotations[annotation.conditions] = JSON.stringify(conditions);
    out['status'] = status;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  return out;
}

/** An autoscaling/v1 HPA in the storage version (v2); annotations written by hpaToV1 come back as fields. */
export function hpaToV2(object: KubeObject): KubeObject {
  const { spec: rawSpec, status: rawStatus, ...rest } = object as KubeObject & { spec?: unknown; status?: unknown };
  const annotations: Record<string, string> = { ...object.metadata.annotations };
  const take = (name: string): unknown[] | Obj | undefined => {
    const text = annotations[name];
    delete annotations[name];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown[] | Obj;
    } catch {
      return undefined;
    }
  };
  const otherMetrics = take(annotation.metrics);
  const behavior = take(annotation.behavior);
  const otherCurrent = take(annotation.currentMetrics);
  const conditions = take(annotation.conditions);
  const out: KubeObject & Obj = { ...rest, apiVersion: 'autoscaling/v2', metadata: { ...object.metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  if (isObj(rawSpec)) {
    const { targetCPUUtilizationPercentage: target, ...spec } = rawSpec;
    const metrics = [
      ...(typeof target === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] : []),
      ...(Array.isArray(otherMetrics) ? otherMetrics : []),
    ];
    if (metrics.length > 0) spec['metrics'] = metrics;
    if (isObj(behavior)) spec['behavior'] = behavior;
    out['spec'] = spec;
  }
  if (isObj(rawStatus)) {
    const { currentCPUUtilizationPercentage: current, ...status } = rawStatus;
    const currentMetrics = [
      ...(typeof current === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }] : []),
      ...(Array.isArray(otherCurrent) ? otherCurrent : []),
    ];
    if (currentMetrics.length > 0) status['currentMetrics'] = currentMetrics;
    if (Array.isArray(conditions)) status['conditions'] = conditions;
    out['status'] = status;
  }
  return out;
}
