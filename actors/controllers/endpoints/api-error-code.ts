/**
 * The stable code of an API failure (runtime/api-errors.ts: `notFound`, `alreadyExists`,
 * `conflict`, ...), read from the error itself so the loops here act on what a call answered
 * without depending on the classes' module.
 */
export function apiErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
