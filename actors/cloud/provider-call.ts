/**
 * Every controller reaches the provider through `callProvider`: the call gets a deadline and an
 * AbortSignal (the contract's CallOptions), and whatever it throws comes back as a
 * CloudProviderError. The deadline is enforced here too, so a provider that ignores its
 * `timeoutMs` cannot hold a worker: the controller moves on and retries later (the abandoned call
 * is aborted through its signal).
 *
 * Decision: the timer runs on the injected clock, so unit tests with a SimulatedClock see the
 * timeout without waiting for it.
 */
import type { Clock } from '../../bus/clock.js';
import { CloudProviderError, type CallOptions } from './provider.js';

export interface ProviderCallOptions {
  readonly provider: string;
  readonly operation: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
}

export class ProviderCallTimeoutError extends CloudProviderError {
  override readonly name = 'ProviderCallTimeoutError';
  override readonly code = 'cloudProviderTimeout';
  constructor(provider: string, operation: string, readonly timeoutMs: number) {
    super(provider, operation, `no answer within ${timeoutMs} ms`, true);
  }
}

/** Runs one provider call with a deadline; every failure is a CloudProviderError. */
export function callProvider<T>(options: ProviderCallOptions, call: (callOptions: CallOptions) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = options.clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      abort.abort();
      reject(new ProviderCallTimeoutError(options.provider, options.operation, options.timeoutMs));
    }, options.timeoutMs);
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      options.clock.clearTimeout(timer);
      outcome();
    };
    let pending: Promise<T>;
    try {
      pending = call({ timeoutMs: options.timeoutMs, signal: abort.signal });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(asProviderError(error, options))),
    );
  });
}

/** A provider that throws something else broke the contract; the controllers still treat it as retryable. */
export function asProviderError(error: unknown, options: { readonly provider: string; readonly operation: string }): CloudProviderError {
  if (error instanceof CloudProviderError) return error;
  const wrapped = new CloudProviderError(options.provider, options.operation, error instanceof Error ? error.message : String(error), true);
  (wrapped as { cause?: unknown }).cause = error;
  return wrapped;
}
