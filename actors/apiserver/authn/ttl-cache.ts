/**
 * A bounded map whose entries expire: what store-backed authenticators remember between requests
 * (see authnLimits.storeCacheTtlMs for why the TTL is the revocation delay). Insertion-ordered, so
 * the oldest entry is evicted first when full. Time comes from the injected clock.
 */
import type { Clock } from '../../../bus/index.js';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAtMs: number }>();

  constructor(private readonly clock: Clock, private readonly options: { ttlMs: number; entriesMax: number }) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.options.entriesMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAtMs: this.clock.now() + this.options.ttlMs });
  }

  /** Reads through: the cached value, else `load()`'s, remembered for the TTL. */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = await load();
    this.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
