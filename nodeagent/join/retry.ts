/**
 * Retries a call while the server is unreachable (TransportError), with doubling delays and a
 * progress line per failure; refusals (typed errors) pass at once: waiting does not cure them.
 */
import type { Logger } from '../../bus/logger.js';
import { ServerUnreachableError } from './errors.js';
import { TransportError } from './https-client.js';
import { retryDelayMs } from './renewal.js';

export interface RetryOptions {
  readonly server: string;
  /** What is being done, for the progress line ("fetching the CA"). */
  readonly what: string;
  /** A first join gives up after `joinLimits.joinAttemptsMax`; a running agent passes Infinity (its pods run meanwhile). */
  readonly attemptsMax: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  /** Stops retrying (agent shutdown): the last error is thrown. */
  readonly stopped?: () => boolean;
}

export async function whileUnreachable<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TransportError) || !error.retryable) throw error;
      if (attempt >= options.attemptsMax || options.stopped?.() === true) throw new ServerUnreachableError(options.server, attempt, error.message);
      const delayMs = retryDelayMs(attempt - 1);
      options.logger.info(`${options.what}: ${options.server} unreachable (${error.message}); retrying in ${Math.round(delayMs / 1000)} s`,
        { attempt, ...(Number.isFinite(options.attemptsMax) ? { attemptsMax: options.attemptsMax } : {}) });
      await options.sleep(delayMs);
    }
  }
}
