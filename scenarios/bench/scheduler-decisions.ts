/**
 * Part (a) of `npm run bench:scheduler`: the decision function alone, on an in-memory snapshot.
 * Nodes in 10 zones; the snapshot starts with 2 pods per node; then pods are decided one after
 * another and each decision is assumed into the cache (as the scheduler does), mixing plain pods
 * (70%), pods with required anti-affinity on their hostname plus preferred affinity to their app
 * (15%) and pods with a DoNotSchedule zone spread plus a ScheduleAnyway hostname spread (15%).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { buildSnapshot, defaultScheduleConfig, podInfo, schedule } from '../../actors/scheduler/index.js';
import { node, pod } from '../../test/scheduler/fixtures.js';

export interface DecisionRow {
  readonly nodes: number;
  readonly decisions: number;
  readonly unschedulable: number;
  /** Wall clock. */
  readonly decisionsPerSecond: number;
  /** Per second of this process's CPU time: the figure that holds on a machine shared with other load. */
  readonly decisionsPerCpuSecond: number;
  readonly p99Us: number;
}

const zoneKey = 'topology.kubernetes.io/zone';

export function mixedPodForBench(i: number): Pod {
  return mixedPod(i);
}

function mixedPod(i: number): Pod {
  const app = `app-${i % 50}`;
  const kind = i % 20;
  if (kind < 14) return pod(`plain-${i}`, { cpu: '100m', memory: '128Mi', labels: { app } });
  if (kind < 17) {
    return pod(`affinity-${i}`, {
      cpu: '100m', memory: '128Mi', labels: { app, role: `anti-${i % 7}` },
      spec: {
        affinity: {
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { role: `anti-${i % 7}` } } }] },
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: zoneKey, labelSelector: { matchLabels: { app } } } }] },
        },
      },
    });
  }
  return pod(`spread-${i}`, {
    cpu: '100m', memory: '128Mi', labels: { app, spread: `s-${i % 5}` },
    spec: {
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: zoneKey, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { spread: `s-${i % 5}` } } },
        { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { spread: `s-${i % 5}` } } },
      ],
    },
  });
}

export function benchDecisions(nodeCount: number, decisions: number, progress: (line: string) => void): DecisionRow {
  const nodes = Array.from({ length: nodeCount }, (_, i) => node(`node-${i}`, { cpu: '32', memory: '128Gi', pods: 110, labels: { [zoneKey]: `zone-${i % 10}` } }));
  const existing = Array.from({ length: nodeCount * 2 }, (_, i) => ({ ...pod(`existing-${i}`, { cpu: '500m', memory: '1Gi', labels: { app: `app-${i % 50}` }, nodeName: `node-${i % nodeCount}` }) }));
  const cache = buildSnapshot({ nodes, pods: existing });
  const pods = Array.from({ length: decisions }, (_, i) => podInfo(mixedPod(i)));
  let start = 0;
  let unschedulable = 0;
  // Warm-up: JIT the plugins before timing.
  for (let i = 0; i < Math.min(200, decisions); i++) schedule(podInfo(mixedPod(decisions + i)), cache, { ...defaultScheduleConfig, startIndex: i });
  const durations = new Float64Array(decisions);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < decisions; i++) {
    const info = pods[i];
    if (info === undefined) continue;
    const s = performance.now();
    const result = schedule(info, cache, { ...defaultScheduleConfig, startIndex: start, tieBreak: i });
    start = result.nextStartIndex;
    if ('node' in result) cache.setPod(info, result.node);
    else unschedulable++;
    durations[i] = performance.now() - s;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  durations.sort();
  const row: DecisionRow = {
    nodes: nodeCount, decisions, unschedulable,
    decisionsPerSecond: Math.round(decisions / seconds),
    decisionsPerCpuSecond: Math.round(decisions / cpuSeconds),
    p99Us: Math.round((durations[Math.min(decisions - 1, Math.ceil(decisions * 0.99) - 1)] ?? 0) * 1000),
  };
  progress(`decisions at ${nodeCount} nodes: ${row.decisionsPerSecond}/s wall, ${row.decisionsPerCpuSecond}/s of CPU time (p99 ${row.p99Us} µs per decision, ${unschedulable} unschedulable of ${decisions})`);
  return row;
}
