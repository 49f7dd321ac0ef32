/** Reading dockerode's errors: the engine's HTTP status says what happened (404 gone, 304 already so, 409 conflict). */
import { ContainerNotFoundError } from '../errors.js';

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** For batch operations over containers that may vanish meanwhile: a gone container is not an error. */
export function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ContainerNotFoundError) && statusCode(error) !== 404) throw error;
}
