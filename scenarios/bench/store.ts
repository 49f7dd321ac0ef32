/**
 * `npm run bench:store`: figures, not assertions. An N-member kubus store and an N-member etcd
 * (when `etcd` is on PATH) on loopback, under the same workload (workload.ts); etcd is driven over
 * its native gRPC API (etcd-grpc/). Prints each row as it completes, then per run both systems'
 * rows, CPU seconds per 1,000 operations and the kubus/etcd ratios, then the median of the per-run
 * ratios and the issue's targets as PASS/MISS; `--json` ends with one line holding every run.
 *
 *   --members 3|5        members of each system (default 3)
 *   --runs N             N runs, systems alternating (kubus, etcd, kubus, etcd, ...) so drift hits both
 *   --rows a,b           a subset of put1,put16,put256,get16,failover
 *   --only kubus|etcd    one system
 *   --cpu-prof <dir>     kubus members run with Node's --cpu-prof; profiles land in <dir>
 *   --row-ms <ms>        each throughput row's length (default 5000; or KUBUS_BENCH_ROW_MS)
 *   --etcd-gateway       etcd through its JSON gateway (old figures only; not a fair comparison)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startKubusTarget } from './kubus-target.js';
import { startEtcdTarget } from './etcd-target.js';
import { formatRun, formatSummary, judgeTargets, medianRatios, type Run, type SystemRun } from './store-report.js';
import { benchLimits, failoverRow, idleCpuCores, rowIds, rowSpecs, throughputRow, type BenchTarget, type RowId } from './workload.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'no-etcd': { type: 'boolean', default: false },
    'etcd-gateway': { type: 'boolean', default: false },
    members: { type: 'string', default: '3' },
    runs: { type: 'string', default: '1' },
    rows: { type: 'string', default: rowIds.join(',') },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'row-ms': { type: 'string', default: process.env['KUBUS_BENCH_ROW_MS'] ?? String(benchLimits.rowMs) },
  },
});
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const usage = (message: string): never => {
  progress(`bench:store: ${message}`);
  process.exit(2);
};

const members = Number(values.members);
if (members !== 3 && members !== 5) usage(`--members must be 3 or 5, not ${values.members}`);
const runs = Number(values.runs);
/** More runs than this is a typo: each run takes about two minutes. */
const runsMax = 20;
if (!Number.isInteger(runs) || runs < 1 || runs > runsMax) usage(`--runs must be an integer from 1 to ${runsMax}, not ${values.runs}`);
const rows = values.rows.split(',').map((row) => row.trim()).filter((row) => row !== '');
for (const row of rows) if (!rowIds.includes(row as RowId)) usage(`unknown row ${row} (rows: ${rowIds.join(', ')})`);
if (values.only !== undefined && values.only !== 'kubus' && values.only !== 'etcd') usage(`--only must be kubus or etcd, not ${values.only}`);
const rowMs = Number(values['row-ms']);
/** Shorter rows than this give a rate from too few operations at 1 client. */
const rowMsMin = 1_000;
if (!Number.isInteger(rowMs) || rowMs < rowMsMin) usage(`--row-ms must be an integer ≥ ${rowMsMin}, not ${values['row-ms']}`);
const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

function etcdOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const runKubus = values.only !== 'etcd';
let runEtcd = values.only !== 'kubus' && !values['no-etcd'];
if (runEtcd && !etcdOnPath()) {
  progress('etcd: not on PATH (apt-get install etcd-server); kubus figures only');
  runEtcd = false;
}

async function measure(target: BenchTarget): Promise<SystemRun> {
  try {
    const idle = await idleCpuCores(target);
    const measured = [];
    for (const spec of rowSpecs) if (rows.includes(spec.id)) measured.push(await throughputRow(target, { test: spec.test, clients: spec.clients, rowMs, progress }));
    const failover = rows.includes('failover') ? await failoverRow(target, progress) : null;
    return { system: target.name, idleCpuCores: idle, rows: measured, failover };
  } finally {
    await target.stop();
  }
}

/**
 * Profile files of the member processes of one run: Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (the write path),
 * others are worker threads.
 */
function profilesOf(pidsByMember: Map<string, number[]>): string[] {
  if (profileDir === undefined) return [];
  const files = readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile'));
  return [...pidsByMember].flatMap(([member, pids]) =>
    pids.map((pid) => {
      const own = files.filter((name) => name.split('.')[3] === String(pid)).sort((a, b) => Number(a.split('.')[4]) - Number(b.split('.')[4]));
      if (own.length === 0) return `${member} (pid ${pid}): no profile (killed with SIGKILL, e.g. by the failover row)`;
      return `${member} (pid ${pid}): ${own.map((file) => `${join(profileDir, file)}${file.split('.')[4] === '0' ? ' (main thread)' : ' (worker)'}`).join(', ')}`;
    }));
}

const results: Run[] = [];
const profiles: string[][] = [];
const uptimeAtStart = execFileSync('uptime', { encoding: 'utf8' }).trim();
progress(`uptime: ${uptimeAtStart}`);
for (let run = 1; run <= runs; run++) {
  let kubus: SystemRun | null = null;
  let etcd: SystemRun | null = null;
  if (runKubus) {
    progress(`run ${run}/${runs} kubus: starting a ${members}-member store on loopback${profileDir === undefined ? '' : `, members profiled into ${profileDir}`}`);
    const target = await startKubusTarget({ members, ...(profileDir !== undefined ? { cpuProfileDir: profileDir } : {}) });
    kubus = await measure(target);
    profiles.push(profilesOf(target.memberPids()));
  }
  if (runEtcd) {
    progress(`run ${run}/${runs} etcd: starting a ${members}-member etcd on loopback, driven over ${values['etcd-gateway'] ? 'its JSON gateway (not a fair comparison)' : 'gRPC'}`);
    etcd = await measure(await startEtcdTarget({ members, gateway: values['etcd-gateway'] }));
  }
  results.push({ kubus, etcd });
}

const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
results.forEach((run, i) => {
  console.log(`\nrun ${i + 1}/${runs}, ${members} members`);
  for (const line of formatRun(run)) console.log(line);
});
if (runKubus && runEtcd) {
  console.log('');
  for (const line of formatSummary(results)) console.log(line);
}
const profileLines = profiles.flat();
if (profileLines.length > 0) {
  console.log(`\nkubus member CPU profiles (open in Chrome DevTools or speedscope):`);
  for (const line of profileLines) console.log(`  ${line}`);
}
console.log(`\nload at the start: ${uptimeAtStart}\nload at the end:   ${uptime}`);
if (values.json) {
  const ratios = medianRatios(results);
  console.log(JSON.stringify({
    options: { members, runs, rows, rowMs, only: values.only ?? null, etcdTransport: values['etcd-gateway'] ? 'gateway' : 'grpc', cpuProfileDir: profileDir ?? null },
    uptimeAtStart, uptime, runs: results, medianRatios: ratios, targets: judgeTargets(ratios), profiles: profileLines,
  }));
}
process.exit(0);
