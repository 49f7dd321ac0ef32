// `npm test`: every suite CI runs, in order: typecheck, unit, integration, simulation.
// Checks its prerequisites first and fails loudly (never skips) when one is missing; as root it
// installs nats-server with apt-get, otherwise it names the command to run. The summary
// (test/run-summary.mjs) prints `N passed, N failed, N skipped` and names every skipped test;
// under CI=true a skipped test fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './run-summary.mjs';

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
const work = mkdtempSync(join(tmpdir(), 'kubus-test-'));
const report = join(work, 'vitest.json');
const results = [];
results.push(['typecheck', run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])]);
results.push(['vitest', run('unit and integration tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`])]);
results.push(['simulation', run(`simulation, ${simSeeds} seeds`, 'npx', ['tsx', 'scenarios/sim/main.ts', '--seeds', simSeeds])]);

let json = null;
try {
  json = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  // No report: counted as a failure by the summary.
}
rmSync(work, { recursive: true, force: true });
const summary = summarize(json, results.filter(([name]) => name !== 'vitest').map(([name, ok]) => ({ name, ok })), {
  ci: process.env.CI === 'true', vitestOk: results[1][1], root: process.cwd(),
});
console.log(`\n${summary.lines.join('\n')}`);
process.exit(summary.ok ? 0 : 1);
