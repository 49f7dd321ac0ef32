/**
 * The work queue of one controller (client-go's workqueue semantics): a key added while queued
 * is queued once; a key being worked on is not handed to another worker, and if added meanwhile
 * it runs again after `done`; failed keys come back after the rate limiter's delay.
 *
 * Decision: bounded by key count (queueKeysMax, queueDelayedKeysMax); an add beyond the bound is
 * dropped and reported once per overflow episode. Keys are object keys, so the bound is only
 * reached when the informers themselves hold more objects than they may.
 */
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { runtimeLimits } from './limits.js';
import { ControllerRateLimiter, type RateLimiterSettings } from './rate-limiter.js';
import type { WorkQueue } from './types.js';

export interface WorkQueueOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly rateLimiter?: RateLimiterSettings;
  readonly keysMax?: number;
  readonly delayedKeysMax?: number;
}

export class RateLimitedWorkQueue implements WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { dueMs: number; timer: TimerId }>();
  private readonly waiters: ((key: string | null) => void)[] = [];
  private readonly limiter: ControllerRateLimiter;
  private readonly keysMax: number;
  private readonly delayedKeysMax: number;
  private overflowing = false;
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions) {
    this.limiter = new ControllerRateLimiter(options.clock, options.rateLimiter);
    this.keysMax = options.keysMax ?? runtimeLimits.queueKeysMax;
    this.delayedKeysMax = options.delayedKeysMax ?? runtimeLimits.queueDelayedKeysMax;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    if (this.dirty.size >= this.keysMax) return this.overflow('queued keys', this.keysMax);
    this.overflowing = false;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // runs again after done()
    this.push(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const dueMs = this.options.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.dueMs <= dueMs) return; // the earlier timer serves both
      this.options.clock.clearTimeout(existing.timer);
    } else if (this.delayed.size >= this.delayedKeysMax) {
      return this.overflow('delayed keys', this.delayedKeysMax);
    }
    const timer = this.options.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { dueMs, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** The next key for a worker, or null once shut down. The key is in progress until `done`. */
  get(): Promise<string | null> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  /** Hands no more keys out (waiting workers get null) and cancels the delayed ones. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) this.options.clock.clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }

  /** Keys being worked on now (tests and the stop drain). */
  inProgress(): number {
    return this.processing.size;
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return waiter(key);
    }
    this.queue.push(key);
  }

  private take(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head++] as string;
    // Compact now and then: the array is a FIFO with a moving head.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private overflow(what: string, max: number): void {
    if (this.overflowing) return;
    this.overflowing = true;
    this.options.logger?.error('work queue full: keys dropped until it drains', { queue: this.options.name, what, max });
  }
}
