/**
 * The `npm test` summary cannot call a run that skipped tests clean: skipped tests are counted and
 * named, and under CI=true one skipped test fails the run. The report checked first is a real one:
 * vitest run on a small unit file with a name filter that matches none of its tests, so all are
 * skipped and vitest itself exits 0 (what a machine without kubectl looks like to the old summary,
 * which printed "0 failed").
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarize, type VitestReport } from './run-summary.mjs';

const root = process.cwd();
const steps = [{ name: 'typecheck', ok: true }, { name: 'simulation', ok: true }];

function realReportAllSkipped(): { report: VitestReport; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-summary-'));
  try {
    const output = join(dir, 'report.json');
    const run = spawnSync('npx', ['vitest', 'run', '--project', 'unit', 'test/store/checksum.test.ts', '-t', 'no test has this name',
      '--reporter=json', `--outputFile.json=${output}`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    return { report: JSON.parse(readFileSync(output, 'utf8')) as VitestReport, status: run.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const file = (name: string, status: string, tests: [string, string][], message = '') => ({
  name: join(root, name), status, message, assertionResults: tests.map(([fullName, testStatus]) => ({ fullName, status: testStatus })),
});

describe('npm test summary', () => {
  it('counts the tests of a real vitest run that skipped them all, and fails it under CI=true', () => {
    const { report, status } = realReportAllSkipped();
    expect(status).toBe(0);
    const outside = summarize(report, steps, { ci: false, vitestOk: true, root });
    expect(outside.skipped).toBeGreaterThan(0);
    expect(outside.lines.at(-1)).toBe(`2 passed, 0 failed, ${outside.skipped} skipped`);
    expect(outside.lines.filter((line) => line.startsWith('skipped: test/store/checksum.test.ts > '))).toHaveLength(outside.skipped);
    expect(outside.ok).toBe(true);
    const ci = summarize(report, steps, { ci: true, vitestOk: true, root });
    expect(ci.ok).toBe(false);
    expect(ci.lines).toContain(`CI=true: ${outside.skipped} skipped test(s); a CI run must run every test (install what the suites name)`);
  });

  it('passes a CI run in which every test ran, and counts each step as one test', () => {
    const report: VitestReport = { numPassedTests: 2, numFailedTests: 0, testResults: [file('test/a.test.ts', 'passed', [['a one', 'passed'], ['a two', 'passed']])] };
    expect(summarize(report, steps, { ci: true, vitestOk: true, root })).toEqual({ passed: 4, failed: 0, skipped: 0, ok: true, lines: ['4 passed, 0 failed, 0 skipped'] });
  });

  it('counts todo tests as skipped, a file that did not load and a failed step as failures', () => {
    const report: VitestReport = {
      numPassedTests: 1, numFailedTests: 0, testResults: [
        file('test/a.test.ts', 'passed', [['a one', 'passed'], ['a later', 'todo']]),
        file('test/b.test.ts', 'failed', [], 'Cannot find module'),
      ],
    };
    const summary = summarize(report, [{ name: 'typecheck', ok: true }, { name: 'simulation', ok: false }], { ci: false, vitestOk: false, root });
    expect(summary).toEqual({
      passed: 2, failed: 2, skipped: 1, ok: false,
      lines: ['failed to run: test/b.test.ts: Cannot find module', 'skipped: test/a.test.ts > a later (todo)', '2 passed, 2 failed, 1 skipped'],
    });
  });

  it('names each failed test with the first line of its failure, last where a log tail shows it', () => {
    const report: VitestReport = {
      numPassedTests: 1, numFailedTests: 1, testResults: [{
        name: join(root, 'test/c.test.ts'), status: 'failed', message: '', assertionResults: [
          { fullName: 'c works', status: 'passed' },
          { fullName: 'c answers 201', status: 'failed', failureMessages: ['\nAssertionError: expected 403 to be 201\n    at c.test.ts:3:5'] },
        ],
      }],
    };
    const summary = summarize(report, steps, { ci: true, vitestOk: false, root });
    expect(summary.lines).toEqual(['failed: test/c.test.ts > c answers 201: AssertionError: expected 403 to be 201', '3 passed, 1 failed, 0 skipped']);
  });

  it('fails without a report, and when vitest failed with no failing test to name', () => {
    expect(summarize(null, steps, { ci: false, vitestOk: false, root })).toMatchObject({ failed: 1, ok: false });
    const empty: VitestReport = { numPassedTests: 0, numFailedTests: 0, testResults: [] };
    expect(summarize(empty, steps, { ci: false, vitestOk: false, root })).toMatchObject({ passed: 2, failed: 1, ok: false });
  });
});
