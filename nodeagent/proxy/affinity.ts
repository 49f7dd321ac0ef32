/**
 * ClientIP session affinity of one service port: a client's connections go to the endpoint its
 * last one used, until it has been idle for the Service's timeout. Bounded: the least recently
 * used client is forgotten first (Map order is insertion order; a touch re-inserts).
 */
export class AffinityTable {
  private readonly entries = new Map<string, { endpoint: string; lastMs: number }>();

  constructor(private readonly entriesMax: number) {}

  /** The endpoint id remembered for `clientIp`, if its entry has not expired at `nowMs`. */
  lookup(clientIp: string, nowMs: number, timeoutMs: number): string | undefined {
    const entry = this.entries.get(clientIp);
    if (entry === undefined) return undefined;
    if (nowMs - entry.lastMs > timeoutMs) {
      this.entries.delete(clientIp);
      return undefined;
    }
    return entry.endpoint;
  }

  remember(clientIp: string, endpoint: string, nowMs: number): void {
    this.entries.delete(clientIp);
    this.entries.set(clientIp, { endpoint, lastMs: nowMs });
    while (this.entries.size > this.entriesMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
