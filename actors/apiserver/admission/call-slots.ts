/**
 * A counting semaphore bounding webhook calls in flight on one member, with a bounded queue:
 * beyond it the caller gets 429 rather than waiting without limit behind a slow webhook.
 */
import { apiErrors } from '../status.js';

export class CallSlots {
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly inFlightMax: number, private readonly queuedMax: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.inFlightMax) {
      if (this.queue.length >= this.queuedMax) throw apiErrors.tooManyRequests(1);
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.inFlight++;
    }
    try {
      return await call();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.inFlight--;
    }
  }
}
