/**
 * `npm run bench:pods [--runtime cri|docker|process|all] [--pods 100] [--concurrency 10] [--members 3] [--json]`:
 * pod startup latency (issue 13 §4), figures not assertions. Per runtime: a fresh control plane of
 * `--members` member processes in a temp directory and 2 `kubus agent --runtime <r>` processes
 * joined like real hosts (not `kubus up`: its fixed loopback plan would clash with a running local
 * cluster), then `--pods` stateless pods (image present: `kubus.local/busybox:1.35`, imagePullPolicy
 * Never; the process runtime runs the host's sleep), each timed from its create request to a watch
 * showing it Running, then Ready; p50/p99 over all pods created (one that never made it counts as
 * slowest); then everything is stopped. Where the agents serve /metrics, their own
 * kubelet_pod_start_duration_seconds (first seen → Running, as the kubelet times it) is read too.
 *
 * Anchors printed with the table: Kubernetes' pod startup SLO is p99 ≤ 5 s (stateless pods, image
 * present, measured from creation to observed running); goal here p99 ≤ 1 s with cri; containerd
 * measured on this machine serves HTTP ≈156 ms after its container starts. The machine's load
 * average and CPU count are printed beside them: figures from a loaded 2-core box are not a
 * quiet server's. With --json the last line is one JSON object.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startApiHarness, type ApiHarness } from '../../test/apiserver/harness.js';
import { kubeHttpFromKubeconfig } from './kube-http.js';
import { startBenchAgents, type BenchAgents } from './pod-agents.js';
import { agentPodStartFigures, mergedQuantile, type AgentPodStartFigures } from './pod-metrics.js';
import { cleanUpNamespace, measurePodStartup, summarize, type StartupResult, type StartupSummary } from './pod-startup.js';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'all' },
    pods: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '10' },
    members: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

const benchLimits = {
  pods: Number(values.pods),
  /** Member processes (1, 3 or 5): 3 as users run it; 1 isolates the agents from replication. */
  members: Number(values.members),
  /** Creates in flight: a deployment controller's burst is of this order. */
  concurrency: Number(values.concurrency),
  /** Every pod of a run must be Ready by then, or it counts as not started. */
  runDeadlineMs: 300_000,
} as const;

/** Kubernetes' pod startup SLO (sig-scalability), and this project's goal with cri. */
const sloP99Ms = 5_000;
const goalP99Ms = 1_000;

type BenchRuntime = 'cri' | 'docker' | 'process';
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, binary)));
}

/** What this host can run: process always; docker with an engine socket; cri with containerd installed. */
export function availableRuntimes(): BenchRuntime[] {
  const found: BenchRuntime[] = [];
  if (onPath('containerd')) found.push('cri');
  if (existsSync('/var/run/docker.sock')) found.push('docker');
  found.push('process');
  return found;
}

function chosenRuntimes(): BenchRuntime[] {
  const wanted = values.runtime ?? 'all';
  if (wanted === 'all') return availableRuntimes();
  const list = wanted.split(',').map((r) => r.trim());
  for (const r of list) if (r !== 'cri' && r !== 'docker' && r !== 'process') throw new Error(`--runtime ${r}: expected cri, docker, process or all`);
  return list as BenchRuntime[];
}

function container(runtime: BenchRuntime): { image: string; command: string[] } {
  if (runtime === 'process') return { image: 'kubus.io/process', command: ['/bin/sleep', '3600'] };
  return { image: 'kubus.local/busybox:1.35', command: ['sleep', '3600'] };
}

interface Row {
  readonly runtime: BenchRuntime;
  readonly error: string | null;
  readonly result: StartupResult | null;
  readonly summary: StartupSummary | null;
  readonly agents: AgentPodStartFigures | null;
  /** From the members' /metrics over the run: p99 bucket bounds (s) of pod creates and of store proposals. */
  readonly members: { readonly createP99Seconds: number | null; readonly proposalP99Seconds: number | null } | null;
  readonly load1Before: number;
  readonly load1After: number;
}

async function runOne(runtime: BenchRuntime): Promise<Row> {
  const load1Before = loadavg()[0] ?? 0;
  progress(`${runtime}: ${benchLimits.members} members, 2 agents --runtime ${runtime}`);
  let harness: ApiHarness | null = null;
  let agents: BenchAgents | null = null;
  try {
    harness = await startApiHarness({ members: benchLimits.members });
    agents = await startBenchAgents(harness, { runtime, count: 2, dir: join(harness.dir, 'agents'), progress });
    const api = kubeHttpFromKubeconfig(harness.kubeconfigPath);
    try {
      const namespace = `bench-pods-${runtime}`;
      const result = await measurePodStartup(api, {
        namespace, pods: benchLimits.pods, concurrency: benchLimits.concurrency, deadlineMs: benchLimits.runDeadlineMs, progress, ...container(runtime),
      });
      const agentFigures = await agentPodStartFigures(agents.metricsUrls).catch(() => null);
      const memberFigures = await memberFiguresOf(harness).catch(() => null);
      await cleanUpNamespace(api, namespace);
      return { runtime, error: null, result, summary: summarize(result, result.created), agents: agentFigures, members: memberFigures, load1Before, load1After: loadavg()[0] ?? 0 };
    } finally {
      api.close();
    }
  } catch (error) {
    return { runtime, error: (error as Error).message, result: null, summary: null, agents: null, members: null, load1Before, load1After: loadavg()[0] ?? 0 };
  } finally {
    await agents?.stop().catch((error: unknown) => progress(`${runtime}: stopping the agents: ${(error as Error).message}`));
    await harness?.stop().catch((error: unknown) => progress(`${runtime}: stopping the members: ${(error as Error).message}`));
  }
}

/** The control plane's side of the run, from every member's /metrics: is it the bottleneck? */
async function memberFiguresOf(harness: ApiHarness): Promise<Row['members']> {
  const texts: string[] = [];
  for (const member of harness.urls.keys()) {
    const reply = await harness.request('GET', '/metrics', { member });
    if (reply.status === 200) texts.push(reply.body);
  }
  if (texts.length === 0) return null;
  return {
    createP99Seconds: mergedQuantile(texts, 'apiserver_request_duration_seconds', 0.99, ['verb="POST"', 'resource="pods"', 'subresource=""']),
    proposalP99Seconds: mergedQuantile(texts, 'kubus_store_proposal_duration_seconds', 0.99, ['outcome="ok"']),
  };
}

const seconds = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${value}s`);
const ms = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : Number.isFinite(value) ? String(Math.round(value)) : '∞');

function printTable(rows: readonly Row[]): void {
  const header = ['runtime', 'pods', 'scheduled p50', 'running p50', 'running p99', 'ready p50', 'ready p99', 'ready max', 'not ready', 'agent start p99≤', 'API create p99≤', 'store proposal p99≤', 'load1 before/after', 'SLO p99≤5s'];
  const lines = rows.map((row) => {
    if (row.error !== null || row.summary === null || row.result === null) return [row.runtime, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `${row.load1Before.toFixed(2)}/${row.load1After.toFixed(2)}`, `failed: ${row.error ?? '?'}`];
    const s = row.summary;
    const verdict = s.readyP99Ms <= sloP99Ms ? (row.runtime === 'cri' ? (s.readyP99Ms <= goalP99Ms ? 'yes (goal ≤1s met)' : 'yes (goal ≤1s not met)') : 'yes') : 'no';
    return [row.runtime, String(row.result.created), ms(s.scheduledP50Ms), ms(s.runningP50Ms), ms(s.runningP99Ms), ms(s.readyP50Ms), ms(s.readyP99Ms), ms(s.readyMaxMs), String(row.result.notReady),
      row.agents === null ? '-' : `${row.agents.p99UpperBoundSeconds}s (${row.agents.count})`, seconds(row.members?.createP99Seconds), seconds(row.members?.proposalP99Seconds), `${row.load1Before.toFixed(2)}/${row.load1After.toFixed(2)}`, verdict];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('');
  console.log(`times in ms from the create request to a watch showing the pod bound to a node (scheduled), Running, Ready; ${benchLimits.pods} pods on 2 agents, ${benchLimits.members} members, ${benchLimits.concurrency} creates in flight`);
  console.log(`anchors: Kubernetes pod startup SLO p99 ≤ ${sloP99Ms / 1000} s (stateless, image present); goal p99 ≤ ${goalP99Ms / 1000} s with cri; containerd here serves HTTP ≈156 ms after its container starts`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

async function main(): Promise<void> {
  const runtimes = chosenRuntimes();
  progress(`bench:pods: ${runtimes.join(', ')}; ${benchLimits.pods} pods each on 2 agents`);
  const rows: Row[] = [];
  for (const runtime of runtimes) rows.push(await runOne(runtime));
  printTable(rows);
  if (values.json === true) {
    console.log(JSON.stringify({
      bench: 'pods', pods: benchLimits.pods, members: benchLimits.members, concurrency: benchLimits.concurrency, cpus: cpus().length, sloP99Ms, goalP99Ms,
      rows: rows.map((r) => ({ runtime: r.runtime, error: r.error, created: r.result?.created ?? 0, notReady: r.result?.notReady ?? null, nodes: r.result?.nodes ?? null, ...r.summary, agents: r.agents, members: r.members, load1Before: r.load1Before, load1After: r.load1After })),
    }));
  }
}

await main();
// The harness's store client and the agents' sockets may keep the event loop alive after the figures are out.
process.exit(0);
