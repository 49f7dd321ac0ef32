/**
 * The flags of the controller manager and the scheduler that loops read from
 * `ControllerContext.options`, declared once: `kubus server`, `kubus controller-manager`,
 * `kubus scheduler` and `kubus up` take them from here.
 *
 * Loops read `ctx.options.<camelCaseName>` (the value as given, e.g. `'40s'`) and, for durations,
 * `ctx.options.<camelCaseName>Ms` (milliseconds, a number); numbers are numbers. Any other flag can
 * be passed with `--controller-flag name=value` (repeatable) and arrives the same way.
 */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

export type FlagKind = 'duration' | 'number' | 'string';

export interface ControllerFlag {
  /** Kubernetes' flag name without the dashes. */
  readonly name: string;
  readonly kind: FlagKind;
  readonly defaultValue: string;
  readonly description: string;
}

export const controllerFlags: readonly ControllerFlag[] = [
  { name: 'node-monitor-grace-period', kind: 'duration', defaultValue: '40s', description: 'how long a node may go without renewing its Lease before its Ready condition becomes Unknown' },
  { name: 'node-monitor-period', kind: 'duration', defaultValue: '5s', description: 'how often the node lifecycle controller checks node health' },
  { name: 'node-startup-grace-period', kind: 'duration', defaultValue: '60s', description: 'how long a new node may stay unready before it is marked unhealthy' },
  { name: 'node-eviction-rate', kind: 'number', defaultValue: '0.1', description: 'nodes per second whose pods are evicted when a zone is healthy' },
  { name: 'secondary-node-eviction-rate', kind: 'number', defaultValue: '0.01', description: 'nodes per second whose pods are evicted when a zone is unhealthy (0 in small clusters)' },
  { name: 'unhealthy-zone-threshold', kind: 'number', defaultValue: '0.55', description: 'fraction of not-ready nodes beyond which a zone is unhealthy' },
  { name: 'large-cluster-size-threshold', kind: 'number', defaultValue: '50', description: 'nodes beyond which a zone counts as large for the eviction rate' },
  { name: 'cluster-cidr', kind: 'string', defaultValue: '10.244.0.0/16', description: 'the range pod CIDRs are allocated from' },
  { name: 'node-cidr-mask-size', kind: 'number', defaultValue: '24', description: 'the prefix length of each node\'s pod CIDR' },
  { name: 'terminated-pod-gc-threshold', kind: 'number', defaultValue: '12500', description: 'terminated pods kept before the oldest are deleted' },
  { name: 'pod-gc-quarantine-period', kind: 'duration', defaultValue: '40s', description: 'how long a pod bound to a node never seen waits before the pod garbage collector deletes it (Kubernetes: a fixed 40 s)' },
  { name: 'max-endpoints-per-slice', kind: 'number', defaultValue: '100', description: 'most endpoints the EndpointSlice controller puts in one slice' },
  { name: 'resource-quota-sync-period', kind: 'duration', defaultValue: '5m', description: 'how often every ResourceQuota\'s usage is recounted in full' },
  { name: 'concurrent-workers', kind: 'string', defaultValue: '', description: 'workers per controller: N for all, or name=N,... (default: each controller\'s own)' },
  { name: 'percentage-of-nodes-to-score', kind: 'number', defaultValue: '0', description: 'scheduler: percentage of feasible nodes to find before scoring (0: adaptive, as Kubernetes)' },
  { name: 'pod-initial-backoff', kind: 'duration', defaultValue: '1s', description: 'scheduler: first backoff of an unschedulable pod' },
  { name: 'cloud-provider', kind: 'string', defaultValue: '', description: 'cloud controller manager: the provider plugin to run (local, sim, or one registered by --cloud-provider-module); empty: no cloud controller manager' },
  { name: 'cloud-config', kind: 'string', defaultValue: '', description: 'cloud controller manager: the provider\'s configuration file' },
  { name: 'cloud-provider-module', kind: 'string', defaultValue: '', description: 'cloud controller manager: an ES module registering an out-of-tree provider (docs/cloud-providers.md), imported before --cloud-provider is looked up' },
  { name: 'pod-max-backoff', kind: 'duration', defaultValue: '10s', description: 'scheduler: longest backoff of an unschedulable pod' },
  { name: 'horizontal-pod-autoscaler-sync-period', kind: 'duration', defaultValue: '15s', description: 'how often every HorizontalPodAutoscaler is evaluated' },
  { name: 'horizontal-pod-autoscaler-downscale-stabilization', kind: 'duration', defaultValue: '5m', description: 'the scale-down stabilization window of HPAs whose behavior names none' },
  { name: 'horizontal-pod-autoscaler-tolerance', kind: 'number', defaultValue: '0.1', description: 'usage-to-target ratios within this of 1.0 do not scale' },
  { name: 'horizontal-pod-autoscaler-cpu-initialization-period', kind: 'duration', defaultValue: '5m', description: 'after a pod starts, its CPU samples are not trusted for this long (scale up)' },
  { name: 'horizontal-pod-autoscaler-initial-readiness-delay', kind: 'duration', defaultValue: '30s', description: 'after a pod starts, readiness changes within this are taken as its initial readiness' },
];

export class ControllerFlagError extends KubusError {
  override readonly name = 'ControllerFlagError';
  readonly code = 'controllerFlag';
  constructor(readonly flag: string, message: string) {
    super(message);
  }
  override fields(): ErrorFields {
    return { flag: this.flag };
  }
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `40s`, `1m30s`, `500ms`, `2h` (Go's time.ParseDuration units h, m, s, ms) in milliseconds. */
export function parseDurationMs(text: string, flag = 'duration'): number {
  const units: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match !== null; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * (units[match[2] as string] as number);
    consumed = pattern.lastIndex;
  }
  if (trimmed === '' || consumed !== trimmed.length) throw new ControllerFlagError(flag, `--${flag} must be a duration like 40s, 1m30s or 500ms, got "${text}"`);
  return total;
}

/**
 * ctx.options from the declared flags (given values over defaults) and the generic
 * `--controller-flag name=value` pairs.
 */
export function controllerOptions(given: Readonly<Record<string, string | undefined>>, extra: readonly string[] = []): Record<string, string | number | boolean | undefined> {
  const options: Record<string, string | number | boolean | undefined> = {};
  const put = (flag: string, kind: FlagKind, value: string): void => {
    const key = camelCase(flag);
    if (kind === 'duration') {
      options[key] = value;
      options[`${key}Ms`] = parseDurationMs(value, flag);
    } else if (kind === 'number') {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) throw new ControllerFlagError(flag, `--${flag} must be a number, got "${value}"`);
      options[key] = number;
    } else {
      options[key] = value;
    }
  };
  for (const flag of controllerFlags) put(flag.name, flag.kind, given[camelCase(flag.name)] ?? flag.defaultValue);
  for (const pair of extra) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ControllerFlagError('controller-flag', `--controller-flag takes name=value, got "${pair}"`);
    const name = pair.slice(0, at).replace(/^--/, '');
    const value = pair.slice(at + 1);
    const declared = controllerFlags.find((f) => f.name === name);
    if (declared !== undefined) put(name, declared.kind, value);
    else if (/^\d+(\.\d+)?(ms|h|m|s)/.test(value)) put(name, 'duration', value);
    else if (value !== '' && Number.isFinite(Number(value))) put(name, 'number', value);
    else if (value === 'true' || value === 'false') options[camelCase(name)] = value === 'true';
    else put(name, 'string', value);
  }
  return options;
}

/** Workers of a controller from `--concurrent-workers` (`N` or `name=N,...`), else its spec's own, else the default. */
export function workersFor(name: string, flag: string | undefined, specWorkers: number | undefined, fallback: number): number {
  const text = (flag ?? '').trim();
  if (text !== '') {
    if (/^\d+$/.test(text)) return Number(text);
    for (const part of text.split(',')) {
      const [key, value] = part.split('=');
      if (key?.trim() === name && value !== undefined && /^\d+$/.test(value.trim())) return Number(value.trim());
    }
  }
  return specWorkers ?? fallback;
}

/**
 * The controllers `--controllers` enables (Kubernetes' syntax): `*` all, `foo` foo, `-foo` not foo;
 * the default is `*`. An unknown name is refused, so a typo does not silently disable nothing.
 */
export function enabledControllers(flag: string | undefined, known: readonly string[]): Set<string> {
  const items = (flag ?? '*').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const enabled = new Set<string>();
  const all = items.includes('*');
  for (const item of items) {
    const name = item.startsWith('-') ? item.slice(1) : item;
    if (name !== '*' && !known.includes(name)) throw new ControllerFlagError('controllers', `--controllers names "${name}", which is not a controller; known: ${known.join(', ') || '(none)'}`);
  }
  for (const name of known) {
    if (items.includes(`-${name}`)) continue;
    if (all || items.includes(name)) enabled.add(name);
  }
  return enabled;
}
