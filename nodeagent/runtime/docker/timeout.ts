/**
 * A bound on one engine request, on the injected clock. dockerode's own `timeout` applies to
 * every request of a client, streams included (it would cut an idle log follow), so requests are
 * bounded one by one here.
 */
import type Dockerode from 'dockerode';
import type { Clock, TimerId } from '../../../bus/clock.js';
import { RuntimeUnavailableError } from '../errors.js';

/** The engine client and the clock its bounds run on, handed to the runtime's parts. */
export interface Engine {
  readonly docker: Dockerode;
  readonly clock: Clock;
}

export function withTimeout<T>(clock: Clock, promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: TimerId | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new RuntimeUnavailableError('docker', what, `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clock.clearTimeout(timer);
  });
}

/** Resolves true after `delayMs` on the clock, unless `settled` resolves first (false). */
export function outlives(clock: Clock, settled: Promise<unknown>, delayMs: number): Promise<boolean> {
  let timer: TimerId | undefined;
  return Promise.race([
    settled.then(() => false),
    new Promise<boolean>((resolve) => { timer = clock.setTimeout(() => resolve(true), delayMs); }),
  ]).finally(() => {
    if (timer !== undefined) clock.clearTimeout(timer);
  });
}
