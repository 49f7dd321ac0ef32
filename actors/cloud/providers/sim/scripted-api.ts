/**
 * The scripted cloud API's behaviour for one call: how long it takes and whether it fails, drawn
 * from the seeded generator (bus Prng), so one seed and one sequence of calls give one run.
 * `drawCall` is the pure decision; `ScriptedApi.call` performs it on the injected clock.
 */
import { Prng, type Clock, type TimerId } from '../../../../bus/index.js';
import { CloudProviderError, type CallOptions } from '../../provider.js';
import { withinDeadline } from '../shared/deadline.js';
import { simProviderName, type SimConfig } from './config.js';
import type { SimConfigSource } from './config-source.js';

export interface CallDraw {
  readonly delayMs: number;
  readonly fails: boolean;
}

/** latencyMs ± jitterMs (never below 0), and a failure with probability failureRate. Two draws per call, always. */
export function drawCall(prng: Prng, config: Pick<SimConfig, 'latencyMs' | 'jitterMs' | 'failureRate'>): CallDraw {
  const jitter = prng.float() * 2 - 1;
  const failure = prng.float();
  return {
    delayMs: Math.max(0, Math.round(config.latencyMs + jitter * config.jitterMs)),
    fails: failure < config.failureRate,
  };
}

export class ScriptedApi {
  private prng: Prng;
  private seed: number;
  /** Calls made and failures injected, for tests and logs. */
  readonly counts = { calls: 0, failures: 0 };
  /** Calls started whose scripted work has not finished (it goes on after the caller's timeout). */
  private running = 0;
  /** Latency timers pending, so stop() can end them rather than keep the process alive up to latencyMsMax. */
  private readonly waiting = new Map<TimerId, () => void>();
  /** Bumped by stop(): a call started before it fails instead of acting. */
  private epoch = 0;

  get inFlight(): number {
    return this.running;
  }

  constructor(private readonly source: SimConfigSource, private readonly clock: Clock) {
    this.seed = source.last.seed;
    this.prng = new Prng(this.seed);
  }

  /**
   * Waits the drawn latency, then fails (retryable) or runs `work` on the configuration as the
   * file says at that moment. Bounded by the call's timeout and signal (withinDeadline).
   */
  call<T>(operation: string, options: CallOptions, work: (config: SimConfig) => T | Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.running++;
      try {
        return await this.perform(operation, work);
      } finally {
        this.running--;
      }
    };
    return withinDeadline(run(), options, { provider: simProviderName, operation, clock: this.clock });
  }

  /** Ends every pending latency wait; the calls behind them fail (retryable) without acting. Later calls run as usual. */
  stop(): void {
    this.epoch++;
    for (const [timer, release] of [...this.waiting]) {
      this.clock.clearTimeout(timer);
      release();
    }
    this.waiting.clear();
  }

  private wait(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(timer);
        resolve();
      }, delayMs);
      this.waiting.set(timer, resolve);
    });
  }

  private async perform<T>(operation: string, work: (config: SimConfig) => T | Promise<T>): Promise<T> {
    const epoch = this.epoch;
    const before = await this.source.current();
    if (before.seed !== this.seed) {
      // A new seed in the file restarts the stream: the run from here is the one that seed decides.
      this.seed = before.seed;
      this.prng = new Prng(this.seed);
    }
    const draw = drawCall(this.prng, before);
    this.counts.calls++;
    if (draw.delayMs > 0) await this.wait(draw.delayMs);
    if (epoch !== this.epoch) throw new CloudProviderError(simProviderName, operation, 'the provider was stopped');
    if (draw.fails) {
      this.counts.failures++;
      throw new CloudProviderError(simProviderName, operation, `simulated API failure (failureRate ${before.failureRate})`);
    }
    return work(await this.source.current());
  }
}
