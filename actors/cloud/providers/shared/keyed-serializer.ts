/**
 * Runs operations on the same key one after another. A controller's retry can overlap a call
 * still finishing after its deadline (deadline.ts waits no longer, the work goes on): serialising
 * per Service keeps two calls from opening the same listener or allocating twice. The chain for a
 * key is dropped when it empties, so the map holds only keys with work in flight.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work in flight (for tests and for stop()). */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves when every operation queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
