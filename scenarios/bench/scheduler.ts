/**
 * `npm run bench:scheduler [--json]`: figures, not assertions.
 * (a) The decision function alone on in-memory snapshots of 1,000 and 5,000 nodes with mixed pods
 *     (plain, affinity, spread): decisions per second, wall clock and per CPU second.
 * (b) End to end on a 3-member cluster (startApiHarness: every member runs the scheduler, the Lease
 *     holder decides): 1,000 hollow Nodes created through the API, then 3,000 pods created by
 *     concurrent creators; pods bound per second and p50/p99 of create → bound, from a watch.
 * Goals: (a) >= 5,000 decisions/s at 1,000 nodes, (b) >= 500 pods/s. With --json the last line is
 * one JSON object with `decisionsPerSecond` (1,000 nodes) and `podsBoundPerSecond`.
 * KUBUS_BENCH_NODES / KUBUS_BENCH_PODS shrink (b) for a quick look.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists } from '../../actors/controllers/runtime/api-errors.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { startApiHarness } from '../../test/apiserver/harness.js';
import { adminApi, createHollowNodes, startNodeLeaseRenewer } from '../../test/support/control-plane.js';
import { benchDecisions, type DecisionRow } from './scheduler-decisions.js';
import { percentile } from './workload.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const benchLimits = {
  nodes: Number(process.env['KUBUS_BENCH_NODES'] ?? 1_000),
  pods: Number(process.env['KUBUS_BENCH_PODS'] ?? 3_000),
  /** Concurrent creators of nodes and of pods. */
  nodeCreators: 8,
  podCreators: 32,
  /** Decisions timed per snapshot in (a). */
  decisions: 5_000,
  /** Attempts per create before the bench gives up on that object. */
  attemptsMax: 20,
  /** (b) gives up waiting for bindings after this. */
  bindDeadlineMs: 300_000,
} as const;
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
let retried = 0;

/** A loaded machine makes the store time out now and then (504, 429): a creator retries, as a client would. */
async function withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= benchLimits.attemptsMax) throw error;
      retried++;
      progress(`${what}: ${(error as Error).message}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * i)));
    }
  }
}
const round = (n: number): number => Math.round(n * 10) / 10;

progress(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (figures below share the machine with that load)`);
const rows: DecisionRow[] = [benchDecisions(1_000, benchLimits.decisions, progress), benchDecisions(5_000, benchLimits.decisions, progress)];

progress('starting a 3-member cluster (every member runs the scheduler)');
const h = await startApiHarness();
const api = adminApi(h);
let endToEnd: { nodes: number; pods: number; bound: number; podsBoundPerSecond: number; p50Ms: number; p99Ms: number; nodesCreatedPerSecond: number; podsCreatedPerSecond: number; createRetries: number } | undefined;
try {
  const t0 = performance.now();
  let nextNode = 1;
  const names: string[] = [];
  await Promise.all(Array.from({ length: benchLimits.nodeCreators }, async () => {
    while (nextNode <= benchLimits.nodes) {
      const i = nextNode++;
      names.push(...await withRetries(`node ${i}`, () => createHollowNodes(h, 1, { prefix: 'bench', from: i, cpu: '32', memory: '128Gi', pods: '110', zone: `zone-${i % 10}` })));
    }
  }));
  const nodeSeconds = (performance.now() - t0) / 1000;
  progress(`${names.length} hollow nodes (with their Leases) created in ${nodeSeconds.toFixed(1)} s`);
  const renewer = startNodeLeaseRenewer(h, names, 10_000);
  await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  const saDeadline = performance.now() + 30_000;
  while (performance.now() < saDeadline) {
    if (await api.get(refs.serviceaccounts, 'bench', 'default').then(() => true, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const createdAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  const { resourceVersion } = await api.list(refs.pods, { namespace: 'bench', limit: 1 });
  let allBound: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { allBound = resolve; });
  const watch = await api.watch<Pod>(refs.pods, { namespace: 'bench', resourceVersion }, {
    onEvent(_type, pod) {
      const name = pod.metadata?.name ?? '';
      if (pod.spec?.nodeName && !boundAt.has(name)) {
        boundAt.set(name, performance.now());
        if (boundAt.size % 500 === 0) progress(`${boundAt.size} pods bound`);
        if (boundAt.size >= benchLimits.pods) allBound();
      }
    },
    onEnd(error) { if (error) progress(`watch ended: ${error.message}`); },
  });
  progress(`creating ${benchLimits.pods} pods with ${benchLimits.podCreators} concurrent creators`);
  let next = 0;
  const createStart = performance.now();
  await Promise.all(Array.from({ length: benchLimits.podCreators }, async () => {
    while (next < benchLimits.pods) {
      const name = `pod-${next++}`;
      createdAt.set(name, performance.now());
      await withRetries(`pod ${name}`, () => api.create(refs.pods, 'bench', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: `app-${next % 20}` } },
        spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      }).catch((error: unknown) => { if (!isAlreadyExists(error)) throw error; })).catch((error: Error) => progress(`create ${name} failed: ${error.message}`));
    }
  }));
  const createSeconds = (performance.now() - createStart) / 1000;
  progress(`${benchLimits.pods} pods created in ${createSeconds.toFixed(1)} s (${Math.round(benchLimits.pods / createSeconds)} creates/s: the API's write rate bounds what the scheduler can bind)`);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, benchLimits.bindDeadlineMs))]);
  watch.stop();
  await renewer.stop();
  const latencies = [...boundAt].map(([name, at]) => at - (createdAt.get(name) ?? at)).sort((a, b) => a - b);
  const lastBound = Math.max(...boundAt.values());
  const seconds = (lastBound - createStart) / 1000;
  endToEnd = {
    nodes: names.length, pods: benchLimits.pods, bound: boundAt.size,
    podsBoundPerSecond: Math.round(boundAt.size / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)),
    nodesCreatedPerSecond: Math.round(names.length / nodeSeconds), podsCreatedPerSecond: Math.round(benchLimits.pods / createSeconds), createRetries: retried,
  };
  progress(`end to end: ${endToEnd.bound}/${endToEnd.pods} pods bound on ${endToEnd.nodes} nodes, ${endToEnd.podsBoundPerSecond} pods/s (first create → last bound), create → bound p50 ${endToEnd.p50Ms} ms, p99 ${endToEnd.p99Ms} ms`);
} finally {
  await h.stop();
}

console.log(`\n${'row'.padEnd(40)}${'figure'.padEnd(28)}detail`);
for (const r of rows) console.log(`${`decisions, ${r.nodes} nodes`.padEnd(40)}${`${r.decisionsPerSecond}/s wall`.padEnd(28)}${r.decisionsPerCpuSecond}/s per CPU second, p99 ${r.p99Us} µs`);
if (endToEnd !== undefined) {
  console.log(`${`end to end, ${endToEnd.nodes} nodes, ${endToEnd.pods} pods`.padEnd(40)}${`${endToEnd.podsBoundPerSecond} pods/s`.padEnd(28)}create → bound p50 ${endToEnd.p50Ms} ms, p99 ${endToEnd.p99Ms} ms; ${endToEnd.bound} bound`);
  console.log(`${'  of which: pod creates through the API'.padEnd(40)}${`${endToEnd.podsCreatedPerSecond} pods/s`.padEnd(28)}${endToEnd.createRetries} create retries (store timeouts)`);
}
if (values.json) {
  const at1000 = rows[0] as DecisionRow;
  console.log(JSON.stringify({
    decisionsPerSecond: at1000.decisionsPerSecond, decisionsPerCpuSecond: at1000.decisionsPerCpuSecond, decisionRows: rows,
    podsBoundPerSecond: endToEnd?.podsBoundPerSecond ?? 0, endToEnd, loadAverage: loadavg(),
  }));
}
process.exit(0);
