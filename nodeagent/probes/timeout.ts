/** A bounded wait on the injected clock, shared by the network probe actions. */
import type { Clock } from '../../bus/clock.js';
import type { ActionResult } from './probe-actions.js';

/** Settles with `onTimeout()` when `work` takes longer than `timeoutMs` on the clock. */
export function withTimeout(clock: Clock, timeoutMs: number, start: (settle: (result: ActionResult) => void) => () => void, onTimeout: () => ActionResult): Promise<ActionResult> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: () => void = () => undefined;
    const timer = clock.setTimeout(() => settle(onTimeout()), timeoutMs);
    function settle(result: ActionResult): void {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      cleanup();
      resolve(result);
    }
    cleanup = start(settle);
  });
}

