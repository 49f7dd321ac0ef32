/**
 * The downward API: pod fields (`fieldRef`) and container resources (`resourceFieldRef`) as
 * text, shared by env variables and downwardAPI volume files, by the kubelet's rules.
 *
 * Decision: limits left unset default to the Node's allocatable (Kubernetes does the same, so an
 * app sees how much it may really use); requests left unset fall back to the limit when one is
 * set (API defaulting) and else 0.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../actors/objects/index.js';

export interface PodFieldContext {
  readonly pod: Pod;
  readonly podIp: string | null;
  readonly nodeIp: string;
}

/** Subscripted paths: `metadata.labels['app']`. */
const subscripted = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** The field's value, or undefined for a path Kubernetes does not support. */
export function podFieldValue(fieldPath: string, context: PodFieldContext): string | undefined {
  const { pod } = context;
  const meta = pod.metadata ?? {};
  const match = subscripted.exec(fieldPath);
  if (match !== null) {
    const map = match[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[match[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'metadata.labels': return formatMap(meta.labels);
    case 'metadata.annotations': return formatMap(meta.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.hostIP': return context.nodeIp;
    case 'status.hostIPs': return context.nodeIp;
    case 'status.podIP': return context.podIp ?? '';
    case 'status.podIPs': return context.podIp ?? '';
    default: return undefined;
  }
}

/** `key="value"` lines sorted by key, as the kubelet writes labels and annotations to a file. */
export function formatMap(map: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}

export interface ResourceFieldRequest {
  readonly resource: string;
  readonly divisor?: string | number | undefined;
}

/** Allocatable quantities of the Node (`cpu`, `memory`, `ephemeral-storage`), as numbers. */
export type Allocatable = Readonly<Record<string, number>>;

const supported = new Set(['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage']);

/** The resource's value divided by the divisor, rounded up as the kubelet does; undefined for an unknown resource or divisor. */
export function resourceFieldValue(container: Container, request: ResourceFieldRequest, allocatable: Allocatable): string | undefined {
  if (!supported.has(request.resource)) return undefined;
  const [kind, name] = request.resource.split('.') as ['limits' | 'requests', string];
  const limit = parseQuantity(container.resources?.limits?.[name]);
  const value = kind === 'limits'
    ? limit ?? allocatable[name] ?? 0
    : parseQuantity(container.resources?.requests?.[name]) ?? limit ?? 0;
  const divisor = request.divisor === undefined || request.divisor === '' ? 1 : parseQuantity(request.divisor);
  if (divisor === undefined || divisor <= 0) return undefined;
  // CPU compares in millicores, as Kubernetes' MilliValue does, so 0.5 / 1m is exactly 500.
  const divisorMillis = Math.round(divisor * 1000);
  const ratio = name === 'cpu' && divisorMillis > 0 ? Math.round(value * 1000) / divisorMillis : value / divisor;
  return String(Math.ceil(ratio - 1e-9));
}

/** The container named `name` among the pod's containers and init containers. */
export function findContainer(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}
