/**
 * Waiting on the host for something only a look can tell (a pid file written, a process gone):
 * look, then look again every `intervalMs` on the injected clock, until it holds or `timeoutMs`
 * passed. The caller names both bounds (limits.ts).
 */
import type { Clock } from '../../../bus/clock.js';

export async function pollUntil(clock: Clock, bounds: { readonly intervalMs: number; readonly timeoutMs: number }, holds: () => boolean): Promise<boolean> {
  const deadline = clock.now() + bounds.timeoutMs;
  for (;;) {
    if (holds()) return true;
    if (clock.now() >= deadline) return false;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, bounds.intervalMs));
  }
}
