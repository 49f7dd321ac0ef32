/**
 * Per-term memory of a cloud controller: what the controller remembers lives only as long as the
 * leadership term (keyed by the term's informer factory, which each term creates afresh), so a
 * new leader starts from nothing and ensures every balancer again, as the contract expects.
 */
import { assert } from '../../../bus/assert.js';
import type { ControllerContext } from '../../controllers/runtime/types.js';
import { cloudLimits } from '../limits.js';

export function termMemory<T extends object>(create: () => T): { of(ctx: ControllerContext): T; reset(ctx: ControllerContext): void } {
  const terms = new WeakMap<object, T>();
  return {
    of(ctx) {
      let term = terms.get(ctx.informers);
      if (term === undefined) terms.set(ctx.informers, (term = create()));
      return term;
    },
    reset(ctx) {
      terms.delete(ctx.informers);
    },
  };
}

/** Consecutive failures per key, for the backoff; bounded like every per-key memory. */
export class FailureCounts {
  private readonly counts = new Map<string, number>();

  /** Records one more failure; returns how many in a row. */
  fail(key: string): number {
    const next = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, next);
    assert(this.counts.size <= cloudLimits.trackedKeysMax, 'cloud controller failure counts beyond the informer bound');
    return next;
  }

  succeed(key: string): void {
    this.counts.delete(key);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
