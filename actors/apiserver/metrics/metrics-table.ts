/**
 * `kubectl get podmetrics` / `kubectl get nodes.metrics.k8s.io` (pure): the Table metrics-server
 * prints — Name, CPU, Memory, Window — with a pod's usage summed over its containers, each sum
 * printed as a Go Quantity prints itself (`500m`, `32Mi`).
 */
import type { KubeObject } from '../types.js';

type IncludeObject = 'None' | 'Metadata' | 'Object';

const columns = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
  { name: 'CPU', type: 'string', format: '', description: 'CPU consumption', priority: 0 },
  { name: 'Memory', type: 'string', format: '', description: 'Memory consumption', priority: 0 },
  { name: 'Window', type: 'string', format: '', description: 'Time window of the measurements', priority: 0 },
];

interface Usage { readonly cpu?: string; readonly memory?: string }

/** Back from the quantities this API writes (`n`, `Ki`, or `0`). */
function nanoCores(text: string | undefined): number {
  return text === undefined || text === '0' ? 0 : Number(text.replace(/n$/, ''));
}
function bytes(text: string | undefined): number {
  return text === undefined || text === '0' ? 0 : Number(text.replace(/Ki$/, '')) * 1024;
}

function usageOf(object: KubeObject): { cpu: number; memory: number } {
  const parts: Usage[] = Array.isArray(object.containers) ? (object.containers as { usage: Usage }[]).map((c) => c.usage) : [object.usage as Usage];
  return parts.reduce((sum, u) => ({ cpu: sum.cpu + nanoCores(u.cpu), memory: sum.memory + bytes(u.memory) }), { cpu: 0, memory: 0 });
}

/** CPU as a Go Quantity prints a sum: the largest exact decimal suffix (`500m`, `2`, `1500u`, `7n`). */
export function cpuCell(nanoCoresValue: number): string {
  const n = Math.max(0, Math.round(nanoCoresValue));
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

/** Memory likewise, with binary suffixes (`32Mi`, `1Gi`, `100Ki`). */
export function memoryCell(bytesValue: number): string {
  const n = Math.max(0, Math.round(bytesValue));
  for (const [suffix, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}

export function metricsTable(items: readonly KubeObject[], includeObject: IncludeObject): object {
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: columns,
    rows: items.map((object) => {
      const usage = usageOf(object);
      const cells = [object.metadata.name ?? '', cpuCell(usage.cpu), memoryCell(usage.memory), object.window ?? ''];
      if (includeObject === 'None') return { cells };
      if (includeObject === 'Object') return { cells, object };
      return { cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata } };
    }),
  };
}
