/**
 * Human-readable history: one line per operation, in invoke order, so a failing seed's report can
 * be read top to bottom against the violation's explanation. Example:
 *   #12 client1 [1040 → 1052] cas(k0, "client1-3" → "client1-5") = true
 */
import type { RecordedOperation } from './operation.js';

export function formatValue(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

export function formatOperation(recorded: RecordedOperation): string {
  return `#${recorded.id} ${recorded.client} ${formatInterval(recorded)} ${formatCall(recorded)} ${formatOutcome(recorded)}`;
}

/** Every operation on `key`, in invoke order. */
export function formatHistory(operations: readonly RecordedOperation[], key: string): string {
  const lines = operations
    .filter((recorded) => recorded.operation.key === key)
    .sort((a, b) => a.invokeOrder - b.invokeOrder)
    .map(formatOperation);
  return `history of key ${JSON.stringify(key)} (${lines.length} operations):\n${lines.join('\n')}`;
}

function formatInterval(recorded: RecordedOperation): string {
  const end = recorded.status === 'ok' || recorded.status === 'fail' ? String(recorded.completeMs) : '∞';
  return `[${recorded.invokeMs} → ${end}]`;
}

function formatCall(recorded: RecordedOperation): string {
  const { operation } = recorded;
  const key = JSON.stringify(operation.key);
  switch (operation.type) {
    case 'put':
      return `put(${key}, ${formatValue(operation.value)})`;
    case 'get':
      return `get(${key})`;
    case 'cas':
      return `cas(${key}, ${formatValue(operation.expected)} → ${formatValue(operation.value)})`;
    case 'delete':
      return `delete(${key})`;
  }
}

function formatOutcome(recorded: RecordedOperation): string {
  switch (recorded.status) {
    case 'ok': {
      const { result } = recorded;
      if (recorded.operation.type === 'get') return `= ${formatValue(typeof result === 'string' ? result : null)}`;
      if (recorded.operation.type === 'cas') return `= ${String(result)}`;
      return '= ok';
    }
    case 'fail':
      return `failed, not applied (at ${recorded.completeMs})`;
    case 'unknown':
      return `outcome unknown (since ${recorded.completeMs})`;
    case 'pending':
      return 'still pending';
  }
}
