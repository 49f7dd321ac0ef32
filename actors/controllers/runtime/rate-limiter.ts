/**
 * How long a failed key waits before its next try: the larger of a per-key exponential backoff
 * and an overall token bucket, exactly client-go's DefaultControllerRateLimiter (5 ms doubling to
 * 1000 s per item; 10 qps, burst 100 overall). Pure arithmetic on a clock reading.
 */
import type { Clock } from '../../../bus/clock.js';
import { runtimeLimits } from './limits.js';

export interface RateLimiterSettings {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly qps: number;
  readonly burst: number;
}

export const defaultRateLimiterSettings: RateLimiterSettings = {
  baseMs: runtimeLimits.itemBackoffBaseMs,
  maxMs: runtimeLimits.itemBackoffMaxMs,
  qps: runtimeLimits.retryQps,
  burst: runtimeLimits.retryBurst,
};

/** The per-item delay after `failures` earlier failures: base·2^failures, capped. */
export function itemBackoffMs(failures: number, settings: RateLimiterSettings = defaultRateLimiterSettings): number {
  // 2^failures overflows to Infinity long after the cap; Math.min keeps the cap.
  return Math.min(settings.maxMs, settings.baseMs * 2 ** failures);
}

export class ControllerRateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private lastMs: number;

  constructor(private readonly clock: Clock, private readonly settings: RateLimiterSettings = defaultRateLimiterSettings) {
    this.tokens = settings.burst;
    this.lastMs = clock.now();
  }

  /** The delay before `key`'s next try; counts this as one more failure of the key. */
  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return Math.max(itemBackoffMs(failures, this.settings), this.reserve());
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** A token-bucket reservation (like golang.org/x/time/rate's Reserve): the wait until this token exists. */
  private reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.lastMs) / 1000) * this.settings.qps);
    this.lastMs = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.settings.qps) * 1000);
  }
}
