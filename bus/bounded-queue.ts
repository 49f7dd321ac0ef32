/**
 * A FIFO queue with a fixed capacity. Every buffer in kubus has a bound and a reason; this is the
 * building block: a full queue refuses the newest item and counts it, so a slow consumer turns
 * into counted loss instead of unbounded memory.
 *
 * Decision: drop-newest rather than drop-oldest. What is already queued was accepted (a request
 * may be half-way through admission); refusing the new arrival lets its sender notice (timeout)
 * and retry, which Raft and the store client already do.
 */
import { assert } from './assert.js';
import { QueueOverflowError } from './errors.js';

export class BoundedQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private dropped = 0;

  constructor(readonly name: string, readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, `queue ${name}: capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  isFull(): boolean {
    return this.size >= this.capacity;
  }

  /** Appends `item`; returns false (and counts a drop) when the queue is full. */
  offer(item: T): boolean {
    if (this.isFull()) {
      this.dropped++;
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Appends `item` or throws QueueOverflowError, for producers that must hear about the refusal. */
  push(item: T): void {
    if (!this.offer(item)) throw new QueueOverflowError(this.name, this.capacity);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Compact once the consumed prefix dominates, so shifting stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes every queued item and returns them, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }

  droppedCount(): number {
    return this.dropped;
  }
}
