/**
 * Drives a SimulatedClock from a test: time moves one millisecond at a time, and queued promise
 * reactions run between steps, until a condition holds or a simulated deadline passes.
 */
import type { SimulatedClock } from '../../bus/index.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function simHarness(clock: SimulatedClock, stepMs = 1) {
  const waitFor = async (condition: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = clock.now() + timeoutMs;
    await flush();
    while (!condition()) {
      if (clock.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} simulated ms`);
      clock.advance(stepMs);
      await flush();
    }
  };
  const settle = async <T>(promise: Promise<T>, timeoutMs: number): Promise<T> => {
    let done = false;
    const tracked = promise.finally(() => { done = true; });
    tracked.catch(() => undefined);
    await waitFor(() => done, timeoutMs);
    return tracked;
  };
  return { waitFor, settle };
}
