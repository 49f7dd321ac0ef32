/**
 * Keeps a provider call within its `timeoutMs` and its abort signal (provider.ts: no method
 * blocks longer than its timeout). The work is not cancelled, only no longer waited for: each
 * provider makes its own work safe to finish late (idempotent, as every call must be).
 */
import type { Clock } from '../../../../bus/index.js';
import { CloudProviderError, type CallOptions } from '../../provider.js';

export interface DeadlineContext {
  readonly provider: string;
  readonly operation: string;
  readonly clock: Clock;
}

export function withinDeadline<T>(work: Promise<T>, options: CallOptions, context: DeadlineContext): Promise<T> {
  const { provider, operation, clock } = context;
  if (options.signal?.aborted === true) {
    work.catch(() => undefined);
    return Promise.reject(new CloudProviderError(provider, operation, 'aborted by the caller'));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const timer = clock.setTimeout(
      () => finish(() => reject(new CloudProviderError(provider, operation, `no answer within ${options.timeoutMs} ms`))),
      options.timeoutMs,
    );
    const onAbort = (): void => finish(() => reject(new CloudProviderError(provider, operation, 'aborted by the caller')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(asProviderError(error, provider, operation))),
    );
  });
}

/** Any failure leaves a provider as a CloudProviderError (typed, retryable unless it says otherwise). */
export function asProviderError(error: unknown, provider: string, operation: string): CloudProviderError {
  if (error instanceof CloudProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new CloudProviderError(provider, operation, message);
  wrapped.cause = error;
  return wrapped;
}
