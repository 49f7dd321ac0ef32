/**
 * LimitRanger for pods at creation: the namespace's LimitRange `Container` items default each
 * container's missing limits (`default`) and requests (`defaultRequest`, else the limit), then a
 * container asking for more than `max` or less than `min` is refused (403, Kubernetes' message).
 * Not done: the `Pod` and `PersistentVolumeClaim` item types and `maxLimitRequestRatio`.
 */
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { formatQuantity, parseQuantity } from '../../objects/quantity.js';

type Obj = Record<string, unknown>;
type ResourceMap = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const mapAt = (value: unknown): ResourceMap => (isObj(value) ? value : {});

interface ContainerLimit {
  readonly default: ResourceMap;
  readonly defaultRequest: ResourceMap;
  readonly max: ResourceMap;
  readonly min: ResourceMap;
}

function containerLimits(limitRanges: readonly KubeObject[]): ContainerLimit[] {
  const out: ContainerLimit[] = [];
  for (const range of limitRanges) {
    const limits = (range['spec'] as { limits?: unknown } | undefined)?.limits;
    if (!Array.isArray(limits)) continue;
    for (const item of limits) {
      if (!isObj(item) || item['type'] !== 'Container') continue;
      out.push({ default: mapAt(item['default']), defaultRequest: mapAt(item['defaultRequest']), max: mapAt(item['max']), min: mapAt(item['min']) });
    }
  }
  return out;
}

function containersOf(pod: KubeObject): Obj[] {
  const spec = pod['spec'];
  if (!isObj(spec)) return [];
  return ['initContainers', 'containers'].flatMap((field) => (Array.isArray(spec[field]) ? (spec[field] as unknown[]).filter(isObj) : []));
}

/** Fills defaults into a copy of `pod` and checks min/max; returns the copy. */
export function applyLimitRanges(pod: KubeObject, limitRanges: readonly KubeObject[]): KubeObject {
  const limits = containerLimits(limitRanges);
  if (limits.length === 0) return pod;
  const copy = structuredClone(pod);
  const problems: string[] = [];
  for (const container of containersOf(copy)) {
    const resources = isObj(container['resources']) ? container['resources'] : (container['resources'] = {}) as Obj;
    const containerLimitsMap = isObj(resources['limits']) ? resources['limits'] : {};
    const requests = isObj(resources['requests']) ? resources['requests'] : {};
    for (const limit of limits) {
      for (const [name, value] of Object.entries(limit.default)) if (containerLimitsMap[name] === undefined) containerLimitsMap[name] = value;
      const requestDefaults = { ...limit.default, ...limit.defaultRequest };
      for (const [name, value] of Object.entries(requestDefaults)) if (requests[name] === undefined) requests[name] = value;
    }
    if (Object.keys(containerLimitsMap).length > 0) resources['limits'] = containerLimitsMap;
    if (Object.keys(requests).length > 0) resources['requests'] = requests;
    for (const limit of limits) {
      for (const [name, maxText] of Object.entries(limit.max)) {
        const max = parseQuantity(maxText);
        const value = parseQuantity(containerLimitsMap[name]);
        if (max === undefined) continue;
        if (value === undefined) problems.push(`maximum ${name} usage per Container is ${String(maxText)}.  No limit is specified`);
        else if (value > max) problems.push(`maximum ${name} usage per Container is ${String(maxText)}, but limit is ${formatQuantity(value, name)}`);
      }
      for (const [name, minText] of Object.entries(limit.min)) {
        const min = parseQuantity(minText);
        const value = parseQuantity(requests[name]);
        if (min === undefined) continue;
        if (value === undefined) problems.push(`minimum ${name} usage per Container is ${String(minText)}.  No request is specified`);
        else if (value < min) problems.push(`minimum ${name} usage per Container is ${String(minText)}, but request is ${formatQuantity(value, name)}`);
      }
    }
  }
  if (problems.length > 0) {
    throw apiErrors.forbidden(`pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: [${problems.join(', ')}]`);
  }
  return copy;
}
