/**
 * Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`) as numbers, for the comparisons
 * LimitRanger and ResourceQuota make. Floating point is enough here: quota and limit values are far
 * from 2^53 and only compared, never accumulated over many steps.
 */
const suffixes: Readonly<Record<string, number>> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const pattern = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** The quantity's value, or undefined when the text is not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const match = pattern.exec(value.trim());
  if (match === null) return undefined;
  const base = Number(match[1]);
  if (match[2] !== undefined) return Number(`${match[1]}${match[2]}`);
  return base * (suffixes[match[3] ?? ''] ?? 1);
}

/** A quantity as Kubernetes prints it in quota messages: `500m`, `2`, `1Gi`, or bytes otherwise. */
export function formatQuantity(value: number, resource: string): string {
  if (/memory|storage/.test(resource)) {
    for (const [suffix, factor] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
      if (value >= factor && Number.isInteger(value / factor)) return `${value / factor}${suffix}`;
    }
    return String(value);
  }
  if (Number.isInteger(value)) return String(value);
  return `${Math.round(value * 1000)}m`;
}
