/**
 * The store benchmark's arithmetic (scenarios/bench/store-report.ts): ratios are kubus/etcd per
 * run and row, latency and CPU ratios included; runs are summarized by the median of per-run
 * ratios (not the ratio of medians); CPU per 1,000 writes sums members and nats but not the
 * benchmark process; the targets are judged on those medians, N/A when a row was not run.
 */
import { describe, expect, it } from 'vitest';
import { judgeTargets, median, medianRatios, ratio, runRatios, systemCpuPerThousand, formatRun, formatSummary, type Run, type SystemRun } from '../../scenarios/bench/store-report.js';
import type { Row } from '../../scenarios/bench/workload.js';

function row(system: string, test: 'put' | 'get', clients: number, figures: { ops: number; p50: number; p99: number; cpu: Record<string, number> }): Row {
  return {
    system, test, clients, opsPerSecond: figures.ops, operations: figures.ops * 5, p50Ms: figures.p50, p99Ms: figures.p99, p999Ms: figures.p99 * 2,
    errors: 0, cpuSeconds: figures.cpu,
  };
}

function system(name: string, rows: Row[], failoverMs: number | null): SystemRun {
  return { system: name, idleCpuCores: name === 'kubus' ? { members: 0.1, nats: 0.01 } : { members: 0.05 }, rows, failover: failoverMs === null ? null : { system: name, election: `${name} election`, medianMs: failoverMs, roundsMs: [failoverMs] } };
}

/** One run where kubus does `scale` times etcd's puts at every row. */
function runAt(scale: number): Run {
  const etcdCpu = { members: 1, client: 0.5 };
  return {
    kubus: system('kubus', [
      row('kubus', 'put', 1, { ops: 100 * scale, p50: 2, p99: 10, cpu: { members: 1.5, nats: 0.5, client: 9 } }),
      row('kubus', 'put', 256, { ops: 1000 * scale, p50: 50, p99: 80, cpu: { members: 1.5, nats: 0.5, client: 9 } }),
    ], 400),
    etcd: system('etcd', [
      row('etcd', 'put', 1, { ops: 100, p50: 4, p99: 20, cpu: etcdCpu }),
      row('etcd', 'put', 256, { ops: 1000, p50: 50, p99: 100, cpu: etcdCpu }),
    ], 1000),
  };
}

describe('ratio and median', () => {
  it('answers NaN rather than Infinity for a zero or missing denominator', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });

  it('takes the middle value, the mean of the middle two for an even count, and skips NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});

describe('CPU per 1,000 operations', () => {
  it('sums every group of the system (members and nats) and leaves the benchmark process out', () => {
    const r = row('kubus', 'put', 1, { ops: 100, p50: 1, p99: 1, cpu: { members: 1.5, nats: 0.5, client: 9 } });
    // 500 operations: (1.5 + 0.5) s / 500 × 1000.
    expect(systemCpuPerThousand(r)).toBeCloseTo(4);
  });
});

describe('runRatios', () => {
  it('gives kubus/etcd per row for throughput, p50, p99 and CPU, and the failover ratio', () => {
    const ratios = runRatios(runAt(2));
    expect(ratios.map((r) => r.id)).toEqual(['put1', 'put256', 'failover']);
    const put1 = ratios[0];
    expect(put1?.ops).toBe(2);
    expect(put1?.p50).toBe(0.5);
    expect(put1?.p99).toBe(0.5);
    // kubus: 2 s over 1,000 ops; etcd: 1 s over 500 ops: the same 2 s per 1,000.
    expect(put1?.cpu).toBeCloseTo(1);
    expect(ratios[2]?.p50).toBe(0.4);
  });

  it('has no ratio for a system that did not run', () => {
    expect(runRatios({ kubus: runAt(1).kubus, etcd: null })).toEqual([]);
  });
});

describe('medianRatios and targets', () => {
  it('summarizes runs by the median of per-run ratios', () => {
    const summary = medianRatios([runAt(1), runAt(3), runAt(2)]);
    expect(summary.find((r) => r.id === 'put256')?.ops).toBe(2);
  });

  it('judges the issue\'s targets on the medians, and says N/A for rows not run', () => {
    const targets = judgeTargets(medianRatios([runAt(1.6)]));
    const verdict = (prefix: string): boolean | null | undefined => targets.find((t) => t.target.startsWith(prefix))?.pass;
    expect(verdict('puts ≥ 1.0× etcd at 1 client')).toBe(true);
    expect(verdict('puts ≥ 1.5× etcd at 256')).toBe(true);
    expect(verdict('p99 at 256')).toBe(true);
    expect(verdict('puts ≥ 1.5× etcd at 16')).toBeNull();
    expect(verdict('linearizable reads')).toBeNull();
    expect(verdict('failover')).toBe(true);
    expect(judgeTargets(medianRatios([runAt(1.2)])).find((t) => t.target.startsWith('puts ≥ 1.5× etcd at 256'))?.pass).toBe(false);
  });
});

describe('tables', () => {
  it('prints both systems, a CPU line under each row, the ratios, and PASS/MISS lines', () => {
    const text = [...formatRun(runAt(2)), ...formatSummary([runAt(2)])].join('\n');
    expect(text).toContain('puts/s, 1 client');
    expect(text).toContain('members 1.500 + nats 0.500 = 2.000 (client 9.000)');
    expect(text).toContain('failover median');
    expect(text).not.toContain('errors');
    expect(text).toContain('CPU at rest before the rows, in cores: kubus members 0.100 + nats 0.010; etcd members 0.050');
    expect(text).toContain('kubus: kubus election; etcd: etcd election');
    expect(text).toMatch(/PASS {2}puts ≥ 1\.5× etcd at 256 clients: 2\.00×/);
    expect(text).toMatch(/N\/A +puts ≥ 1\.5× etcd at 16 clients/);
  });
});
