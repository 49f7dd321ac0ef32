/**
 * A small TTL cache of API reads on the injected clock: one pod start resolves several
 * containers (and volumes) against the same ConfigMaps, Secrets and Services, and should read
 * each once. A failed read is not cached, so the next attempt asks again.
 */
import type { Clock } from '../../bus/clock.js';

interface Entry<T> {
  readonly expiresAtMs: number;
  readonly value: Promise<T>;
}

export class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: { readonly clock: Clock; readonly ttlMs: number; readonly entriesMax: number }) {}

  /** The cached value for `key`, or `load()`'s, kept for the TTL when it succeeds. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.options.clock.now();
    const found = this.entries.get(key);
    if (found !== undefined && found.expiresAtMs > now) return found.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { expiresAtMs: now + this.options.ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.evict();
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }

  private evict(): void {
    // Map iteration is insertion order: the first entries are the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.options.entriesMax) break;
      this.entries.delete(key);
    }
  }
}
