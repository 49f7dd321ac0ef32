/**
 * Invariant checks. An assertion failure means kubus reached a state it must never reach; the
 * process stops rather than "repairs" (fail-stop, see RELIABILITY.md). Never catch AssertionError.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable: unexpected ${what}: ${JSON.stringify(value)}`);
}
