/**
 * `npm run bench:nodes [--json] [--nodes 5000] [--replicas 1000] [--window 30] [--fleet auto|agents|in-process] [--agents-per-process 500]`: figures, not
 * assertions (issue 11 §8). N hollow nodes heartbeat (Lease every 10 s, as the kubelet) on a
 * 3-member cluster; over a window of `--window` seconds it reports each member's CPU and RSS, the
 * store's writes/s (its revision's growth), Lease renew p50/p99 and failures, Nodes still Ready;
 * then the time for a Deployment of `--replicas` replicas to be all Running, the pods going the
 * real way: scheduler → binding → assignment relay → each node's assignment client → Running.
 * Goals: 5,000 nodes held with Lease p99 < 1 s; agent RSS ≤ 60 MB (real agent), ≤ 5 MB per
 * hollow node.
 *
 * The fleet: `kubus agent --hollow-nodes` processes when the CLI has them (`--fleet agents`, 500
 * nodes per process; their RSS is the per-hollow-node figure; their own renewals are timed inside
 * them, so the bench times probe Leases of its own beside them, and reads every fleet Lease's age
 * at the window's end), else the in-process fleet of node-fleet.ts (`--fleet in-process`), whose
 * Lease path and cadence are the same. With --json the last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { refs, type ApiClient } from '../../actors/controllers/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../../test/apiserver/harness.js';
import { adminApi } from '../../test/support/control-plane.js';
import { agentFleetLimits, startAgentFleet, startProbeLeases } from './agent-fleet.js';
import { startHollowFleet, withRetries } from './node-fleet.js';
import { percentile } from './workload.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    nodes: { type: 'string', default: '5000' },
    replicas: { type: 'string', default: '1000' },
    window: { type: 'string', default: '30' },
    fleet: { type: 'string', default: 'auto' },
    'agents-per-process': { type: 'string', default: '500' },
  },
});
const benchLimits = {
  nodes: Number(values.nodes),
  replicas: Number(values.replicas),
  windowMs: Number(values.window) * 1_000,
  /** The kubelet's Lease cadence. */
  leaseRenewIntervalMs: 10_000,
  /** Concurrent node creators (the API's mutating throughput peaks around 64 clients). */
  creators: 32,
  /** The Deployment is given up on after this. */
  runningDeadlineMs: 900_000,
  /** How often the Deployment's pods are counted. */
  pollMs: 1_000,
  /** Attempts per measurement read before the bench gives up. */
  readAttemptsMax: 5,
  /** Hollow agents per `kubus agent --hollow-nodes` process. */
  agentsPerProcess: Number(values['agents-per-process']),
} as const;
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Whether `kubus agent` has `--hollow-nodes` yet (H2 builds it). */
function agentHasHollowNodes(): boolean {
  const help = spawnSync(process.execPath, ['--import', 'tsx', 'actors/cli/main.ts', 'agent', '--help'], { encoding: 'utf8', timeout: 30_000 });
  return `${help.stdout}${help.stderr}`.includes('--hollow-nodes');
}

interface ProcessSample {
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

/** CPU seconds so far and resident memory of one process, from /proc. */
function sampleProcess(pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15 of proc(5))
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
    return { cpuSeconds: ticks / 100, rssMb: rssKb / 1024 };
  } catch {
    return null;
  }
}

/** A loaded cluster answers a read late now and then (5 s client timeout): the bench asks again, a bounded number of times. */
const retried = <T>(read: () => Promise<T>): Promise<T> => withRetries(read, benchLimits.readAttemptsMax);

/** Every object, in pages (5,000 Nodes in one reply would pass NATS's max payload). */
async function listAll<T>(h: ApiHarness, resource: Parameters<ApiClient['list']>[0], options: { namespace?: string; labelSelector?: string } = {}): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  do {
    const page = await retried(() => adminApi(h).list<T>(resource, { ...options, limit: 500, ...(next !== undefined ? { continue: next } : {}) }));
    items.push(...page.items);
    next = page.continue === '' ? undefined : page.continue;
  } while (next !== undefined);
  return items;
}

/** The store's current revision: a list's resourceVersion. */
async function storeRevision(h: ApiHarness): Promise<number> {
  const list = await retried(() => adminApi(h).list(refs.namespaces, { limit: 1 }));
  return Number(list.resourceVersion);
}

interface WindowFigures {
  readonly members: { id: string; cpuPercent: number; rssMb: number }[];
  readonly storeWritesPerSecond: number;
  readonly renewals: number;
  readonly renewP50Ms: number;
  readonly renewP99Ms: number;
  readonly renewFailures: number;
  readonly nodesReady: number;
  /** Age of the fleet's Leases (now − renewTime) at the window's end: p99 and max, seconds. */
  readonly leaseAgeP99Seconds: number;
  readonly leaseAgeMaxSeconds: number;
}

/** What the window needs from a fleet: its node names and the renewals it timed since the last call. */
interface MeasuredFleet {
  readonly names: readonly string[];
  takeRenewals(): { latenciesMs: number[]; failures: number };
}

async function measureWindow(h: ApiHarness, fleet: MeasuredFleet): Promise<WindowFigures> {
  const ids = h.cluster.memberIds;
  const before = new Map(ids.map((id) => [id, sampleProcess(h.cluster.pid(id) ?? -1)]));
  const revisionBefore = await storeRevision(h);
  const startedMs = performance.now();
  fleet.takeRenewals();
  progress(`measuring for ${benchLimits.windowMs / 1000} s`);
  await new Promise((resolve) => setTimeout(resolve, benchLimits.windowMs));
  const renewals = fleet.takeRenewals();
  const seconds = (performance.now() - startedMs) / 1000;
  const revisionAfter = await storeRevision(h);
  const members = ids.map((id) => {
    const [start, end] = [before.get(id), sampleProcess(h.cluster.pid(id) ?? -1)];
    return { id, cpuPercent: start && end ? round(((end.cpuSeconds - start.cpuSeconds) / seconds) * 100) : Number.NaN, rssMb: round(end?.rssMb ?? Number.NaN) };
  });
  const names = new Set(fleet.names);
  const items = await listAll<Node>(h, refs.nodes);
  const nodesReady = items.filter((n) => names.has(n.metadata?.name ?? '') && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True').length;
  const leases = (await listAll<Lease>(h, refs.leases, { namespace: 'kube-node-lease' })).filter((l) => names.has(l.metadata?.name ?? ''));
  const nowMs = Date.now();
  const ages = leases.map((l) => (nowMs - Date.parse(l.spec?.renewTime ?? '')) / 1000).filter(Number.isFinite).sort((a, b) => a - b);
  const sorted = [...renewals.latenciesMs].sort((a, b) => a - b);
  return {
    members, storeWritesPerSecond: round((revisionAfter - revisionBefore) / seconds), renewals: sorted.length,
    renewP50Ms: round(percentile(sorted, 50)), renewP99Ms: round(percentile(sorted, 99)), renewFailures: renewals.failures, nodesReady,
    leaseAgeP99Seconds: round(percentile(ages, 99)), leaseAgeMaxSeconds: round(ages.at(-1) ?? Number.NaN),
  };
}

/** Seconds from creating the Deployment until all its pods are Running (null past the deadline). */
async function deploymentToRunning(h: ApiHarness): Promise<{ seconds: number | null; running: number }> {
  const api = adminApi(h);
  await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-nodes' } });
  const deployment: Deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hollow', namespace: 'bench-nodes' },
    spec: {
      replicas: benchLimits.replicas, selector: { matchLabels: { app: 'hollow' } },
      template: { metadata: { labels: { app: 'hollow' } }, spec: { containers: [{ name: 'c', image: 'hollow', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  };
  const started = performance.now();
  await api.create(refs.deployments, 'bench-nodes', deployment);
  progress(`Deployment of ${benchLimits.replicas} created`);
  let running = 0;
  let lastReport = 0;
  while (performance.now() - started < benchLimits.runningDeadlineMs) {
    const items = await listAll<Pod>(h, refs.pods, { namespace: 'bench-nodes', labelSelector: 'app=hollow' }).catch(() => [] as Pod[]);
    running = items.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined).length;
    if (running >= benchLimits.replicas) return { seconds: round((performance.now() - started) / 1000), running };
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      progress(`  ${running}/${benchLimits.replicas} Running after ${Math.round((performance.now() - started) / 1000)} s (${items.length} pods exist)`);
    }
    await new Promise((resolve) => setTimeout(resolve, benchLimits.pollMs)); // a sampling period
  }
  return { seconds: null, running };
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** RSS of one plain `kubus agent` (process runtime, one node), or null when it could not be started. */
async function realAgentRssMb(h: ApiHarness, dir: string): Promise<number | null> {
  try {
    const agent = await startAgentFleet(h, { nodes: 1, perProcess: 1, prefix: 'bench-real-agent', dir, single: true, progress });
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // settle after joining: the steady footprint, not the join's peak
    const rss = agent.pids().map((pid) => sampleProcess(pid)?.rssMb ?? Number.NaN)[0] ?? null;
    await agent.stop();
    return rss === null ? null : round(rss);
  } catch (error) {
    progress(`the real agent did not start: ${(error as Error).message}`);
    return null;
  }
}

progress(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (figures below share the machine with that load)`);
const fleetMode = values.fleet === 'auto' ? (agentHasHollowNodes() ? 'agents' : 'in-process') : values.fleet;
if (fleetMode !== 'agents' && fleetMode !== 'in-process') throw new Error(`--fleet is auto, agents or in-process, not ${fleetMode}`);
progress('starting a 3-member cluster');
// Kubernetes' own leader-election timing: the harness's fast one (3 s lease) flaps under a fleet's load, and a bench measures the defaults.
const h = await startApiHarness({ serverArgs: ['--leader-elect-lease-duration', '15s', '--leader-elect-renew-deadline', '10s', '--leader-elect-retry-period', '2s'] });
const cleanups: (() => Promise<void>)[] = [];
try {
  const creating = performance.now();
  let measured: MeasuredFleet;
  let perHollowNodeMb: number;
  let perHollowNodeNote: string;
  let agentPids: () => number[] = () => [];
  if (fleetMode === 'agents') {
    progress(`starting ${benchLimits.nodes} hollow agents, ${benchLimits.agentsPerProcess} per kubus agent process`);
    const agents = await startAgentFleet(h, { nodes: benchLimits.nodes, perProcess: benchLimits.agentsPerProcess, prefix: 'hollow-p', dir: join(h.dir, 'agents'), progress });
    cleanups.push(() => agents.stop());
    const probes = await startProbeLeases(h);
    cleanups.push(async () => probes.stop());
    measured = { names: agents.names, takeRenewals: () => probes.take() };
    agentPids = agents.pids;
    perHollowNodeNote = `kubus agent processes' RSS / ${benchLimits.agentsPerProcess}`;
    perHollowNodeMb = Number.NaN; // measured after the window, when the agents run pods too
  } else {
    progress(`creating ${benchLimits.nodes} hollow nodes in this process (${benchLimits.creators} creators), each with an assignment client`);
    const fleet = await startHollowFleet(h, { nodes: benchLimits.nodes, prefix: 'hollow', leaseRenewIntervalMs: benchLimits.leaseRenewIntervalMs, creators: benchLimits.creators, runPods: true, progress });
    cleanups.push(() => fleet.stop());
    measured = fleet;
    perHollowNodeNote = 'bench process RSS / nodes (upper bound: harness included)';
    perHollowNodeMb = (sampleProcess(process.pid)?.rssMb ?? Number.NaN) / benchLimits.nodes;
  }
  const createSeconds = round((performance.now() - creating) / 1000);
  const held = await measureWindow(h, measured);
  // Printed now as well: the Deployment below may take long on a loaded machine, and an interrupted run keeps these.
  progress(`window: ${JSON.stringify(held)}`);
  const deployment = await deploymentToRunning(h);
  if (fleetMode === 'agents') {
    const rss = agentPids().map((pid) => sampleProcess(pid)?.rssMb ?? Number.NaN);
    perHollowNodeMb = rss.reduce((a, b) => a + b, 0) / benchLimits.nodes;
  }
  const agentRssMb = fleetMode === 'agents' ? await realAgentRssMb(h, join(h.dir, 'real-agent')) : null;
  const renewSource = fleetMode === 'agents' ? `${agentFleetLimits.probeLeases} probe Leases renewed every second beside the fleet` : 'every renewal of the fleet';
  const rows = [
    ['figure', 'measured', 'goal'],
    [`hollow nodes (${fleetMode === 'agents' ? 'kubus agent --hollow-nodes processes' : 'in-process fleet'})`, String(benchLimits.nodes), '5,000'],
    ['nodes joined/created per second', String(round(benchLimits.nodes / createSeconds)), ''],
    ...held.members.map((m) => [`member ${m.id} CPU / RSS`, `${m.cpuPercent} % / ${m.rssMb} MB`, '']),
    ['store writes/s', String(held.storeWritesPerSecond), ''],
    [`Lease renew p50 / p99 (${renewSource})`, `${held.renewP50Ms} / ${held.renewP99Ms} ms (${held.renewals} renewals, ${held.renewFailures} failed)`, 'p99 < 1,000 ms'],
    ['fleet Lease age at window end p99 / max', `${held.leaseAgeP99Seconds} / ${held.leaseAgeMaxSeconds} s`, '≤ renew interval'],
    ['Nodes Ready at window end', `${held.nodesReady}/${benchLimits.nodes}`, 'all'],
    [`Deployment of ${benchLimits.replicas} to all Running`, deployment.seconds === null ? `not within ${benchLimits.runningDeadlineMs / 1000} s (${deployment.running} Running)` : `${deployment.seconds} s`, ''],
    [`RSS per hollow node (${perHollowNodeNote})`, `${round(perHollowNodeMb, 2)} MB`, '≤ 5 MB'],
    ['real agent RSS (kubus agent --runtime process, one node)', agentRssMb === null ? 'n/a (agents fleet only)' : `${agentRssMb} MB`, '≤ 60 MB'],
  ];
  process.stdout.write(`${table(rows)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({
      fleet: fleetMode, nodes: benchLimits.nodes, nodesPerSecond: round(benchLimits.nodes / createSeconds), ...held,
      deploymentReplicas: benchLimits.replicas, deploymentRunningSeconds: deployment.seconds, deploymentRunning: deployment.running,
      rssMbPerHollowNode: round(perHollowNodeMb, 3), agentRssMb, loadAverage: loadavg()[0],
    })}\n`);
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await h.stop();
}
