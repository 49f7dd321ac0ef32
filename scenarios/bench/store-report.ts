/**
 * The store benchmark's arithmetic and tables, kept pure (no processes, no clock) so tests can
 * pin them: per-run kubus/etcd ratios per row, the median of those ratios over runs, the issue's
 * targets as PASS/MISS lines, and the text tables.
 *
 * Decision: runs are summarized by the median of per-run ratios, not the ratio of medians: each
 * ratio compares two systems measured minutes apart under the same machine load, which is what
 * the comparison is about on a shared 2-core machine.
 */
import { cpuPerThousand, type FailoverResult, type Row, type RowId } from './workload.js';

export interface SystemRun {
  readonly system: string;
  /** CPU of the system's processes at rest before its rows, in cores per group. */
  readonly idleCpuCores: Readonly<Record<string, number>>;
  readonly rows: readonly Row[];
  readonly failover: FailoverResult | null;
}

export interface Run {
  readonly kubus: SystemRun | null;
  readonly etcd: SystemRun | null;
}

/** kubus/etcd per row of one run; NaN where either side is missing. Latency and CPU ratios: lower is better. */
export interface RowRatios {
  readonly id: RowId;
  readonly ops: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number;
}

export function ratio(numerator: number, denominator: number): number {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return Number.NaN;
  return numerator / denominator;
}

/** The median of the finite values (mean of the middle two for an even count); NaN when none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function rowId(row: Row): RowId {
  return `${row.test}${row.clients}` as RowId;
}

/** CPU seconds per 1,000 operations of the whole system: every group but the benchmark process itself. */
export function systemCpuPerThousand(row: Row): number {
  return Object.keys(row.cpuSeconds).filter((group) => group !== 'client').reduce((sum, group) => sum + cpuPerThousand(row, group), 0);
}

export function runRatios(run: Run): RowRatios[] {
  const ratios: RowRatios[] = [];
  for (const row of run.kubus?.rows ?? []) {
    const other = run.etcd?.rows.find((r) => rowId(r) === rowId(row));
    if (other === undefined) continue;
    ratios.push({
      id: rowId(row), ops: ratio(row.opsPerSecond, other.opsPerSecond), p50: ratio(row.p50Ms, other.p50Ms), p99: ratio(row.p99Ms, other.p99Ms),
      cpu: ratio(systemCpuPerThousand(row), systemCpuPerThousand(other)),
    });
  }
  const kubusFailover = run.kubus?.failover;
  const etcdFailover = run.etcd?.failover;
  if (kubusFailover && etcdFailover) {
    ratios.push({ id: 'failover', ops: Number.NaN, p50: ratio(kubusFailover.medianMs, etcdFailover.medianMs), p99: Number.NaN, cpu: Number.NaN });
  }
  return ratios;
}

/** Per row, the median over runs of each per-run ratio. */
export function medianRatios(runs: readonly Run[]): RowRatios[] {
  const perRun = runs.map(runRatios);
  const ids = [...new Set(perRun.flat().map((r) => r.id))];
  return ids.map((id) => {
    const rows = perRun.flatMap((ratios) => ratios.filter((r) => r.id === id));
    return { id, ops: median(rows.map((r) => r.ops)), p50: median(rows.map((r) => r.p50)), p99: median(rows.map((r) => r.p99)), cpu: median(rows.map((r) => r.cpu)) };
  });
}

export interface TargetResult {
  readonly target: string;
  /** null: a row it needs was not run. */
  readonly pass: boolean | null;
  readonly figure: string;
}

/** Issue 14 §2's store targets, judged on (median) ratios: figures, not assertions. */
export function judgeTargets(ratios: readonly RowRatios[]): TargetResult[] {
  const find = (id: RowId): RowRatios | undefined => ratios.find((r) => r.id === id);
  const judge = (target: string, id: RowId, check: (r: RowRatios) => boolean, figure: (r: RowRatios) => string): TargetResult => {
    const r = find(id);
    return r === undefined ? { target, pass: null, figure: 'row not run' } : { target, pass: check(r), figure: figure(r) };
  };
  const x = (value: number): string => `${fixed(value)}×`;
  return [
    judge('puts ≥ 1.0× etcd at 1 client, p50 ≤ etcd', 'put1', (r) => r.ops >= 1 && r.p50 <= 1, (r) => `${x(r.ops)}, p50 ${x(r.p50)}`),
    judge('puts ≥ 1.5× etcd at 16 clients', 'put16', (r) => r.ops >= 1.5, (r) => x(r.ops)),
    judge('puts ≥ 1.5× etcd at 256 clients', 'put256', (r) => r.ops >= 1.5, (r) => x(r.ops)),
    judge('p99 at 256 clients ≤ etcd', 'put256', (r) => r.p99 <= 1, (r) => `p99 ${x(r.p99)}`),
    judge('linearizable reads ≥ 2× etcd at 16 clients', 'get16', (r) => r.ops >= 2, (r) => x(r.ops)),
    judge('failover median ≤ 0.6× etcd', 'failover', (r) => r.p50 <= 0.6, (r) => x(r.p50)),
  ];
}

const labelWidth = 34;
const cellWidth = 54;

function label(id: RowId): string {
  if (id === 'failover') return 'failover median (lower is better)';
  const clients = Number(id.replace(/^\D+/, ''));
  return `${id.startsWith('put') ? 'puts' : 'linearizable reads'}/s, ${clients} client${clients === 1 ? '' : 's'}`;
}

function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function rowCell(row: Row | undefined): string {
  if (row === undefined) return '-';
  // Failed operations mean the run was disturbed (a leader change, deadlines under load): shown, not hidden.
  return `${row.opsPerSecond}/s  p50 ${row.p50Ms}  p99 ${row.p99Ms}  p99.9 ${row.p999Ms} ms${row.errors > 0 ? `  errors ${row.errors}` : ''}`;
}

/** CPU s per 1,000 ops: the groups (members, nats), their sum, and the client process apart. */
function cpuCell(row: Row | undefined): string {
  if (row === undefined) return '-';
  const groups = Object.keys(row.cpuSeconds).filter((group) => group !== 'client');
  const parts = groups.map((group) => `${group} ${fixed(cpuPerThousand(row, group), 3)}`);
  const sum = groups.length > 1 ? ` = ${fixed(systemCpuPerThousand(row), 3)}` : '';
  return `${parts.join(' + ')}${sum} (client ${fixed(cpuPerThousand(row, 'client'), 3)})`;
}

/** One run's table: both systems' rows, the CPU line under each, the ratios. */
export function formatRun(run: Run): string[] {
  const lines = [`${'row'.padEnd(labelWidth)}${'kubus'.padEnd(cellWidth)}${'etcd'.padEnd(cellWidth)}kubus/etcd`];
  const ratios = runRatios(run);
  const ids = [...new Set([...(run.kubus?.rows ?? []), ...(run.etcd?.rows ?? [])].map(rowId))];
  for (const id of ids) {
    const kubus = run.kubus?.rows.find((r) => rowId(r) === id);
    const etcd = run.etcd?.rows.find((r) => rowId(r) === id);
    const r = ratios.find((candidate) => candidate.id === id);
    lines.push(`${label(id).padEnd(labelWidth)}${rowCell(kubus).padEnd(cellWidth)}${rowCell(etcd).padEnd(cellWidth)}${r === undefined ? '-' : `${fixed(r.ops)}  p50 ${fixed(r.p50)}  p99 ${fixed(r.p99)}`}`);
    lines.push(`${'  CPU s per 1,000 ops'.padEnd(labelWidth)}${cpuCell(kubus).padEnd(cellWidth)}${cpuCell(etcd).padEnd(cellWidth)}${r === undefined ? '-' : fixed(r.cpu)}`);
  }
  if (run.kubus?.failover || run.etcd?.failover) {
    const r = ratios.find((candidate) => candidate.id === 'failover');
    const cell = (f: FailoverResult | null | undefined): string => (f ? `${f.medianMs} ms  (${f.roundsMs.join(', ')})` : '-');
    lines.push(`${label('failover').padEnd(labelWidth)}${cell(run.kubus?.failover).padEnd(cellWidth)}${cell(run.etcd?.failover).padEnd(cellWidth)}${r === undefined ? '-' : fixed(r.p50)}`);
    lines.push(`  ${run.kubus?.failover ? `kubus: ${run.kubus.failover.election}` : ''}${run.kubus?.failover && run.etcd?.failover ? '; ' : ''}${run.etcd?.failover ? `etcd: ${run.etcd.failover.election}` : ''}`);
  }
  const idle = (system: SystemRun | null): string | null =>
    system === null ? null : `${system.system} ${Object.entries(system.idleCpuCores).map(([group, cores]) => `${group} ${fixed(cores, 3)}`).join(' + ')}`;
  const idleParts = [idle(run.kubus), idle(run.etcd)].filter((part): part is string => part !== null);
  if (idleParts.length > 0) lines.push(`CPU at rest before the rows, in cores: ${idleParts.join('; ')}`);
  return lines;
}

/** The median-of-ratios table and the targets under it. */
export function formatSummary(runs: readonly Run[]): string[] {
  const ratios = medianRatios(runs);
  const lines = [`median of per-run ratios kubus/etcd over ${runs.length} run${runs.length === 1 ? '' : 's'} (ops: higher is better; p50, p99, CPU: lower is better)`];
  lines.push(`${'row'.padEnd(labelWidth)}${'ops'.padEnd(8)}${'p50'.padEnd(8)}${'p99'.padEnd(8)}CPU/op`);
  for (const r of ratios) lines.push(`${label(r.id).padEnd(labelWidth)}${fixed(r.ops).padEnd(8)}${fixed(r.p50).padEnd(8)}${fixed(r.p99).padEnd(8)}${fixed(r.cpu)}`);
  lines.push('', 'targets (issue 14 §2; figures, not assertions):');
  for (const t of judgeTargets(ratios)) lines.push(`  ${t.pass === null ? 'N/A ' : t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.figure}`);
  return lines;
}
