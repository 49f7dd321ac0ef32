// The `npm test` summary, apart from the steps so a unit test can check it (test/run-summary.test.ts).
// A skipped test is not a pass: the summary counts and names skipped tests (outside CI, a machine
// without kubectl skips the kubectl suites and says so), and under CI=true any skipped test fails
// the run, so "0 failed" from CI always means that every test ran.

/** Statuses of vitest's JSON report that mean the test ran; any other (skipped, todo, pending) did not. */
const ran = new Set(['passed', 'failed']);

/**
 * @param {import('./run-summary.d.mts').VitestReport | null} report vitest's JSON report; null when none was written
 * @param {readonly import('./run-summary.d.mts').StepResult[]} steps the other steps (typecheck, simulation): one test each
 * @param {import('./run-summary.d.mts').SummaryOptions} options
 * @returns {import('./run-summary.d.mts').Summary}
 */
export function summarize(report, steps, options) {
  let passed = 0;
  let failed = 0;
  /** @type {string[]} */
  const skipped = [];
  /** @type {string[]} */
  const brokenFiles = [];
  /** @type {string[]} */
  const failedTests = [];
  if (report === null) {
    brokenFiles.push('(no vitest report was written)');
  } else {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    for (const file of report.testResults) {
      const name = relativeName(file.name, options.root);
      for (const test of file.assertionResults) {
        if (!ran.has(test.status)) skipped.push(`${name} > ${test.fullName} (${test.status})`);
        if (test.status === 'failed') failedTests.push(`${name} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
      }
      // A file that failed without a failing test did not load, or a hook threw: its tests never ran.
      if (file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed')) brokenFiles.push(`${name}: ${file.message}`);
    }
  }
  failed += brokenFiles.length;
  for (const step of steps) step.ok ? passed++ : failed++;
  // vitest failed yet nothing above says why: still a failure.
  if (!options.vitestOk && failed === 0) failed = 1;
  const lines = [];
  // Named at the end, where a CI log's tail shows them, with the first line of the failure.
  for (const test of failedTests) lines.push(`failed: ${test}`);
  for (const file of brokenFiles) lines.push(`failed to run: ${file}`);
  for (const test of skipped) lines.push(`skipped: ${test}`);
  const skippedInCi = options.ci && skipped.length > 0;
  if (skippedInCi) lines.push(`CI=true: ${skipped.length} skipped test(s); a CI run must run every test (install what the suites name)`);
  lines.push(`${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  return { passed, failed, skipped: skipped.length, ok: failed === 0 && !skippedInCi, lines };
}

/**
 * @param {string | undefined} message
 */
function firstLine(message) {
  const line = (message ?? '').split('\n').find((text) => text.trim() !== '') ?? '(no message)';
  // A bound so one huge assertion diff cannot bury the summary; 300 characters name the assertion.
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * @param {string} path
 * @param {string} root
 */
function relativeName(path, root) {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
