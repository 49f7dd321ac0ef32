/** The part of vitest's JSON report (`--reporter=json`) that the summary reads. */
export interface VitestReport {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly testResults: readonly {
    readonly name: string;
    readonly status: string;
    readonly message: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string; readonly failureMessages?: readonly string[] }[];
  }[];
}

export interface StepResult {
  readonly name: string;
  readonly ok: boolean;
}

export interface SummaryOptions {
  /** CI=true: a skipped test fails the run. */
  readonly ci: boolean;
  /** vitest's own exit status. */
  readonly vitestOk: boolean;
  /** Printed test file names are relative to it. */
  readonly root: string;
}

export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** False when anything failed, or when a test was skipped under CI. */
  readonly ok: boolean;
  /** What to print, the last line being `N passed, N failed, N skipped`. */
  readonly lines: readonly string[];
}

export function summarize(report: VitestReport | null, steps: readonly StepResult[], options: SummaryOptions): Summary;
