/**
 * Checks a recorded client history for linearizability against a register per key.
 *
 * Decision: keys are checked one by one. Linearizability is compositional (Herlihy & Wing's
 * locality): a history is linearizable iff each key's sub-history is, and four small searches
 * are exponentially cheaper than one big one. Keys are checked in sorted order so the verdict is
 * the same on every replay. One time budget covers all keys; running out gives 'undecided'
 * rather than a guess, and the caller decides what an undecided seed means.
 */
import { explanationCandidatesMax, explanationPrefixOperationsMax } from './limits.js';
import { formatOperation, formatValue } from './format.js';
import type { RecordedOperation } from './operation.js';
import { searchKey } from './key-search.js';
import { absentState, applyStep, compileStep, impossible, type ValueTable } from './register-model.js';

export type LinearizabilityVerdict =
  | { readonly verdict: 'ok' }
  | { readonly verdict: 'violation'; readonly key: string; readonly explanation: string }
  | { readonly verdict: 'undecided'; readonly key: string };

export interface CheckOptions {
  /** Wall time the whole check may take; measured with `now`. */
  readonly timeBudgetMs: number;
  readonly now: () => number;
}

export function checkLinearizable(operations: readonly RecordedOperation[], options: CheckOptions): LinearizabilityVerdict {
  const deadlineMs = options.now() + options.timeBudgetMs;
  const deadline = (): boolean => options.now() > deadlineMs;
  for (const [key, keyOperations] of groupByKey(operations)) {
    const found = searchKey(keyOperations, deadline);
    if (found.result === 'timeout') return { verdict: 'undecided', key };
    if (found.result === 'violation') {
      return { verdict: 'violation', key, explanation: explain(keyOperations, found.prefix, found.stuck, found.values) };
    }
  }
  return { verdict: 'ok' };
}

function groupByKey(operations: readonly RecordedOperation[]): [string, RecordedOperation[]][] {
  const byKey = new Map<string, RecordedOperation[]>();
  for (const recorded of operations) {
    const list = byKey.get(recorded.operation.key);
    if (list === undefined) byKey.set(recorded.operation.key, [recorded]);
    else list.push(recorded);
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The longest linearizable prefix (its tail, with the register's value after each operation),
 * then the operation that had to take effect next and could not, and the other operations that
 * were still free to be placed at that point.
 */
function explain(
  keyOperations: readonly RecordedOperation[],
  prefix: readonly RecordedOperation[],
  stuck: RecordedOperation,
  values: ValueTable,
): string {
  const lines: string[] = [`longest linearizable prefix: ${prefix.length} of ${keyOperations.filter((op) => op.status !== 'fail').length} operations`];
  const shownFrom = Math.max(0, prefix.length - explanationPrefixOperationsMax);
  if (shownFrom > 0) lines.push(`  ... ${shownFrom} earlier operations`);
  let state = absentState;
  prefix.forEach((recorded, index) => {
    const step = compileStep(recorded, values);
    if (step !== null) {
      const next = applyStep(step, state);
      state = next === impossible ? state : next;
    }
    if (index >= shownFrom) lines.push(`  ${formatOperation(recorded)}   → register ${formatValue(values.value(state))}`);
  });
  lines.push(`could not be placed next (register ${formatValue(values.value(state))}, and no order of the operations still open explains it):`);
  lines.push(`  ${formatOperation(stuck)}`);
  const placed = new Set(prefix.map((recorded) => recorded.id));
  const open = keyOperations.filter((recorded) =>
    recorded.status !== 'fail' && recorded.id !== stuck.id && !placed.has(recorded.id) &&
    recorded.invokeOrder < (stuck.completeOrder ?? Infinity));
  if (open.length > 0) {
    lines.push(`other operations invoked before it completed and not in the prefix:`);
    for (const recorded of open.slice(0, explanationCandidatesMax)) lines.push(`  ${formatOperation(recorded)}`);
    if (open.length > explanationCandidatesMax) lines.push(`  ... ${open.length - explanationCandidatesMax} more`);
  }
  return lines.join('\n');
}
