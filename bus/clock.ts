/**
 * The one source of time. Nothing in kubus reads the wall clock directly: components take a
 * `Clock`, so a simulation swaps in `SimulatedClock` and one seed replays one run exactly.
 *
 * Decision: the shape matches XState v5's `Clock` (`setTimeout(fn, ms)` / `clearTimeout(id)`), so
 * the same object is handed to `createActor(machine, { clock })` and delayed transitions run on
 * simulated time too.
 */
export type TimerId = number;

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerId;
  clearTimeout(id: TimerId): void;
}

export class SystemClock implements Clock {
  private readonly timers = new Map<TimerId, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerId {
    const id = this.nextId++;
    const handle = setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, delayMs);
    this.timers.set(id, handle);
    return id;
  }

  clearTimeout(id: TimerId): void {
    const handle = this.timers.get(id);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.timers.delete(id);
    }
  }
}

interface PendingTimer {
  readonly id: TimerId;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * Time advances only when the simulation says so. Timers due at the same instant fire in the
 * order they were set, so a run depends on nothing but its inputs.
 */
export class SimulatedClock implements Clock {
  private nowMs = 0;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerId {
    const id = this.nextId++;
    this.pending.push({ id, dueMs: this.nowMs + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.pending = this.pending.filter((timer) => timer.id !== id);
  }

  /** Moves time forward by `deltaMs`, firing every timer that falls due on the way, in order. */
  advance(deltaMs: number): void {
    const targetMs = this.nowMs + deltaMs;
    for (;;) {
      const next = this.earliestDue();
      if (next === undefined || next.dueMs > targetMs) break;
      this.pending = this.pending.filter((timer) => timer.id !== next.id);
      this.nowMs = next.dueMs;
      next.callback();
    }
    this.nowMs = targetMs;
  }

  pendingCount(): number {
    return this.pending.length;
  }

  private earliestDue(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (best === undefined || timer.dueMs < best.dueMs || (timer.dueMs === best.dueMs && timer.id < best.id)) {
        best = timer;
      }
    }
    return best;
  }
}
