/**
 * A bound on one engine request. dockerode's own `timeout` applies to every request of a client,
 * streams included (it would cut an idle log follow), so requests are bounded one by one here.
 */
import { RuntimeUnavailableError } from '../errors.js';

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RuntimeUnavailableError('docker', what, `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
