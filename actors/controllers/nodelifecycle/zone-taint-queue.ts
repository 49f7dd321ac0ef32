/**
 * The Nodes of one zone waiting for their NoExecute taint, let through by a token bucket of the
 * zone's rate with a burst of 1 (Kubernetes' RateLimitedTimedQueue with EvictionRateLimiterBurst).
 * Pure: time is passed in.
 */

export class ZoneTaintQueue {
  private readonly pending = new Set<string>();
  private rate = 0;
  private tokens = 0;
  private lastMs = 0;

  constructor(ratePerSecond: number, nowMs: number) {
    this.rate = ratePerSecond;
    this.tokens = ratePerSecond > 0 ? 1 : 0;
    this.lastMs = nowMs;
  }

  get size(): number {
    return this.pending.size;
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  has(node: string): boolean {
    return this.pending.has(node);
  }

  /** The waiting Nodes, in queue order (a copy). */
  pendingNodes(): string[] {
    return [...this.pending];
  }

  add(node: string): void {
    this.pending.add(node);
  }

  remove(node: string): void {
    this.pending.delete(node);
  }

  /**
   * A new rate. Like Kubernetes' SwapLimiter: the new bucket starts full unless the old one was
   * empty, so swapping rates never lets an extra Node through.
   */
  setRate(ratePerSecond: number, nowMs: number): void {
    if (ratePerSecond === this.rate) return;
    this.refill(nowMs);
    const hadToken = this.tokens >= 1;
    this.rate = ratePerSecond;
    this.tokens = ratePerSecond > 0 && hadToken ? 1 : 0;
  }

  /** The Nodes whose turn it is now, in the order they were queued (each takes a token). */
  take(nowMs: number): string[] {
    this.refill(nowMs);
    const out: string[] = [];
    for (const node of this.pending) {
      if (this.tokens < 1) break;
      this.tokens -= 1;
      out.push(node);
    }
    for (const node of out) this.pending.delete(node);
    return out;
  }

  /** Milliseconds until the next Node may go, or undefined when none waits or the rate is 0. */
  nextInMs(nowMs: number): number | undefined {
    if (this.pending.size === 0 || this.rate <= 0) return undefined;
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private refill(nowMs: number): void {
    if (this.rate > 0) this.tokens = Math.min(1, this.tokens + ((nowMs - this.lastMs) / 1000) * this.rate);
    this.lastMs = nowMs;
  }
}
