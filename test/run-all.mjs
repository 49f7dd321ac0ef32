// `npm test`: every suite CI runs, in order: typecheck, unit, integration, simulation.
// Checks its prerequisites first and fails loudly (never skips) when one is missing; as root it
// installs nats-server with apt-get, otherwise it names the command to run; likewise the container
// runtimes' prerequisites (run-prerequisites.mjs: Docker Engine, containerd, CNI plugins,
// busybox-static, gcc; as root installed and dockerd started): still missing under CI=true fails the run. The summary
// (test/run-summary.mjs) prints `N passed, N failed, N skipped` and names every skipped test;
// under CI=true a skipped test fails the run.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './run-summary.mjs';
import { checkRuntimePrerequisites } from './run-prerequisites.mjs';

const simSeeds = process.env.KUBUS_SIM_SEEDS ?? '500';

function have(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

function ensureNatsServer() {
  if (have('nats-server')) return;
  if (process.getuid?.() === 0) {
    console.log('test: nats-server missing; installing it with apt-get');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!have('nats-server')) {
    console.error('test: nats-server is required by the integration suites. Install it: sudo apt-get install -y nats-server');
    process.exit(1);
  }
}

function run(title, command, args) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
  console.log(`=== ${title}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result.status === 0;
}

function ensureDependencies() {
  if (existsSync('node_modules/.package-lock.json')) return;
  console.log('test: installing npm dependencies (npm ci)');
  if (spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

ensureDependencies();
ensureNatsServer();
if (!(await checkRuntimePrerequisites(process.env.CI === 'true'))) process.exit(1);
const work = mkdtempSync(join(tmpdir(), 'kubus-test-'));
let json = null;
const results = [];
results.push(['typecheck', run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])]);
results.push(['vitest', await runVitestStreams()]);
results.push(['simulation', run(`simulation, ${simSeeds} seeds`, 'npx', ['tsx', 'scenarios/sim/main.ts', '--seeds', simSeeds])]);

/**
 * Two vitest processes at once: unit + integration on the terminal, and the whole-cluster suites
 * (node agents, `kubus up`: the `cluster` project) into a log printed when they end. Each runs its
 * integration files one at a time; vitest itself runs projects' files in one sequence, so two
 * processes are how the two slow streams overlap (they share no state: every suite has its own
 * directory, ports and processes). Then the timed suites alone. The JSON reports are merged for the summary.
 */
async function runVitestStreams() {
  const streams = [
    { title: 'unit and integration tests', projects: ['unit', 'integration'], log: null },
    { title: 'cluster suites (node agents, kubus up)', projects: ['cluster'], log: join(work, 'cluster.log') },
  ];
  console.log(`\n=== ${streams.map((s) => s.title).join(' + ')}, in parallel; the cluster suites' output follows when they end`);
  const started = Date.now();
  const outcomes = await Promise.all(streams.map((stream, i) => new Promise((resolve) => {
    const report = join(work, `vitest-${i}.json`);
    const out = stream.log === null ? 'inherit' : openSync(stream.log, 'w');
    const args = ['vitest', 'run', ...stream.projects.flatMap((p) => ['--project', p]), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
    const child = spawn('npx', args, { stdio: ['ignore', out, out], env: process.env });
    child.on('exit', (code) => {
      if (typeof out === 'number') closeSync(out);
      resolve({ stream, ok: code === 0, report });
    });
  })));
  for (const { stream } of outcomes) if (stream.log !== null) console.log(`\n=== ${stream.title}:\n${readFileSync(stream.log, 'utf8')}`);
  // The suites that bound answer times under faults run alone: the parallel streams would make their bounds a test of the machine's load.
  const timingReport = join(work, 'vitest-timing.json');
  console.log('\n=== suites timed under faults (quorum loss, failover, leader takeover), alone');
  const timing = spawnSync('npx', ['vitest', 'run', '--project', 'timing', '--reporter=default', '--reporter=json', `--outputFile.json=${timingReport}`], { stdio: 'inherit', env: process.env });
  outcomes.push({ stream: null, ok: timing.status === 0, report: timingReport });
  const ok = outcomes.every((o) => o.ok);
  console.log(`=== vitest: ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  json = mergeReports(outcomes.map((o) => o.report));
  return ok;
}

/** vitest JSON reports as one (null when one is missing: the summary counts that as a failure). */
function mergeReports(paths) {
  const reports = [];
  for (const path of paths) {
    try {
      reports.push(JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      return null;
    }
  }
  return {
    numPassedTests: reports.reduce((sum, r) => sum + r.numPassedTests, 0),
    numFailedTests: reports.reduce((sum, r) => sum + r.numFailedTests, 0),
    testResults: reports.flatMap((r) => r.testResults),
  };
}
rmSync(work, { recursive: true, force: true });
const summary = summarize(json, results.filter(([name]) => name !== 'vitest').map(([name, ok]) => ({ name, ok })), {
  ci: process.env.CI === 'true', vitestOk: results[1][1], root: process.cwd(),
});
console.log(`\n${summary.lines.join('\n')}`);
process.exit(summary.ok ? 0 : 1);
