/**
 * The sequential specification the history is checked against: one register per key, initially
 * absent. Operations are compiled once into small integer steps over interned values so that the
 * search, which applies them millions of times on bad days, compares integers instead of strings.
 *
 * Outcomes the model accepts:
 * - put v / delete: always, the state becomes v / absent;
 * - get → r: only when the state is r;
 * - cas(e → v) → true: only when the state is e, which then becomes v; → false: only when the
 *   state is not e, which stays;
 * - an operation of unknown outcome, when it takes effect at all, behaves like its successful
 *   form; a cas that failed or a get has no effect, which is the same as never taking effect, so
 *   an unknown get is dropped and an unknown cas is only ever placed as a success.
 */
import { unreachable } from '../../bus/assert.js';
import type { RecordedOperation } from './operation.js';

/** Interned register value; 0 is "absent". */
export type StateId = number;
export const absentState: StateId = 0;
/** Returned by `applyStep` when the operation cannot take effect with its outcome in that state. */
export const impossible = -1;

export const StepKind = { write: 0, read: 1, casSucceeded: 2, casFailed: 3 } as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

export interface Step {
  readonly kind: StepKind;
  /** write: the new state; read: the state it saw; cas: the expected state. */
  readonly operand: StateId;
  /** cas that succeeded: the new state. */
  readonly written: StateId;
}

export function applyStep(step: Step, state: StateId): StateId {
  switch (step.kind) {
    case StepKind.write:
      return step.operand;
    case StepKind.read:
      return state === step.operand ? state : impossible;
    case StepKind.casSucceeded:
      return state === step.operand ? step.written : impossible;
    case StepKind.casFailed:
      return state !== step.operand ? state : impossible;
  }
}

/** Maps register values to small integers and back. */
export class ValueTable {
  private readonly ids = new Map<string, StateId>();
  private readonly values: string[] = [];

  intern(value: string | null): StateId {
    if (value === null) return absentState;
    let id = this.ids.get(value);
    if (id === undefined) {
      this.values.push(value);
      id = this.values.length;
      this.ids.set(value, id);
    }
    return id;
  }

  value(id: StateId): string | null {
    return id === absentState ? null : (this.values[id - 1] ?? null);
  }
}

/** The step of a recorded operation, or null when it constrains nothing (unknown get). */
export function compileStep(recorded: RecordedOperation, values: ValueTable): Step | null {
  const { operation } = recorded;
  const definite = recorded.status === 'ok';
  switch (operation.type) {
    case 'put':
      return { kind: StepKind.write, operand: values.intern(operation.value), written: absentState };
    case 'delete':
      return { kind: StepKind.write, operand: absentState, written: absentState };
    case 'get':
      if (!definite) return null;
      return { kind: StepKind.read, operand: values.intern(recorded.result as string | null), written: absentState };
    case 'cas': {
      const succeeded = !definite || recorded.result === true;
      return {
        kind: succeeded ? StepKind.casSucceeded : StepKind.casFailed,
        operand: values.intern(operation.expected),
        written: values.intern(operation.value),
      };
    }
    default:
      return unreachable(operation, 'operation');
  }
}
