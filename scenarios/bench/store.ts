/**
 * `npm run bench:store`: figures, not assertions. A 3-member kubus store on loopback, and a
 * 3-member etcd when `etcd` is on PATH, under the same workload; prints each row as it completes
 * and the kubus/etcd ratio per row; `--json` ends with one line holding every row as JSON.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startKubusTarget } from './kubus-target.js';
import { startEtcdTarget } from './etcd-target.js';
import { failoverRow, throughputRow, type BenchTarget, type Row } from './workload.js';

interface SystemResult {
  readonly rows: Row[];
  readonly failover: { system: string; medianMs: number; roundsMs: number[] };
}

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, 'no-etcd': { type: 'boolean', default: false } } });
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function measure(target: BenchTarget): Promise<SystemResult> {
  try {
    const rows: Row[] = [];
    for (const clients of [1, 16, 256]) rows.push(await throughputRow(target, 'put', clients, progress));
    rows.push(await throughputRow(target, 'get', 16, progress));
    const failover = await failoverRow(target, progress);
    return { rows, failover };
  } finally {
    await target.stop();
  }
}

function etcdOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

progress('kubus: starting a 3-member store on loopback');
const kubus = await measure(await startKubusTarget());
let etcd: SystemResult | null = null;
if (!values['no-etcd'] && etcdOnPath()) {
  progress('etcd: starting a 3-member etcd on loopback (reference)');
  etcd = await measure(await startEtcdTarget());
} else {
  progress('etcd: not on PATH (apt-get install etcd-server) or --no-etcd; kubus figures only');
}

const label = (row: Row): string => `${row.test === 'put' ? 'puts' : 'linearizable reads'}/s, ${row.clients} client${row.clients === 1 ? '' : 's'}`;
const cellWidth = 44;
console.log(`\n${'row'.padEnd(38)}${'kubus'.padEnd(cellWidth)}${'etcd'.padEnd(cellWidth)}ratio (kubus/etcd)`);
for (const row of kubus.rows) {
  const other = etcd?.rows.find((r) => r.test === row.test && r.clients === row.clients);
  const cell = (r: Row | undefined): string => (r === undefined ? '-' : `${r.opsPerSecond}/s  p50 ${r.p50Ms}  p99 ${r.p99Ms}  p99.9 ${r.p999Ms} ms`);
  const ratio = other === undefined ? '-' : (row.opsPerSecond / other.opsPerSecond).toFixed(2);
  console.log(`${label(row).padEnd(38)}${cell(row).padEnd(cellWidth)}${cell(other).padEnd(cellWidth)}${ratio}`);
}
const failoverRatio = etcd === null ? '-' : (kubus.failover.medianMs / etcd.failover.medianMs).toFixed(2);
console.log(`${'failover median (lower is better)'.padEnd(38)}${`${kubus.failover.medianMs} ms`.padEnd(cellWidth)}${(etcd === null ? '-' : `${etcd.failover.medianMs} ms`).padEnd(cellWidth)}${failoverRatio}`);
if (values.json) console.log(JSON.stringify({ kubus, etcd }));
process.exit(0);
