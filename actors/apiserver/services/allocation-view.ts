/**
 * This member's view of the held addresses: the allocation record keys, loaded by a paged list
 * and kept by a store watch, plus the addresses this member's own writes have picked and not yet
 * committed. Candidates are chosen from it, so a create never lists the range.
 *
 * Decision: the view only steers the choice; it is never trusted for safety. A stale view costs a
 * lost txn (the record exists) and another pick; the store's compare-and-swap decides. Only a
 * "range is full" answer re-reads the records first (`refresh`), so a view that missed releases
 * does not refuse a create that the store could serve.
 */
import type { Clock, Logger, Prng, TimerId } from '../../../bus/index.js';
import type { StoreClient, StoreWatch, WatchEvent } from '../../../store/index.js';
import { prefixEnd } from '../registry/storage-codec.js';
import { serviceAllocationLimits } from './limits.js';
import { addressId, allocationRecordsPrefix, parseRecordKey, type Address, type AddressKind } from './records.js';

export interface AllocationViewOptions {
  readonly client: StoreClient;
  readonly clock: Clock;
  readonly random: Prng;
  readonly logger: Logger;
}

export class AllocationView {
  private held = new Set<string>();
  /** Picks of this member's writes in flight, counted (two writes may race for one explicit address). */
  private readonly pending = new Map<string, number>();
  private watch: StoreWatch | null = null;
  private timer: TimerId | null = null;
  private stopped = false;
  private delayMs: number = serviceAllocationLimits.viewResumeDelayMinMs;
  private synced: Promise<void>;
  private markSynced: () => void = () => undefined;

  constructor(private readonly options: AllocationViewOptions) {
    this.synced = new Promise((resolve) => { this.markSynced = resolve; });
  }

  start(): this {
    void this.resync();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
  }

  /** Resolves once the first load is in, or after `timeoutMs` (the caller then chooses from what there is). */
  async whenSynced(timeoutMs: number): Promise<void> {
    let timer: TimerId | null = null;
    await Promise.race([this.synced, new Promise<void>((resolve) => { timer = this.options.clock.setTimeout(resolve, timeoutMs); })]);
    if (timer !== null) this.options.clock.clearTimeout(timer);
  }

  /** Re-reads every record now (before answering "range full"); the running watch goes on. */
  async refresh(): Promise<void> {
    const { held } = await this.list(serviceAllocationLimits.viewRefreshTimeoutMs);
    this.held = held;
  }

  isHeld(address: Address): boolean {
    const id = addressId(address);
    return this.held.has(id) || this.pending.has(id);
  }

  /** A lost txn showed the address held (the watch will say so too, later). */
  markHeld(address: Address): void {
    this.held.add(addressId(address));
  }

  markFree(address: Address): void {
    this.held.delete(addressId(address));
  }

  reserve(address: Address): void {
    const id = addressId(address);
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
  }

  unreserve(address: Address): void {
    const id = addressId(address);
    const count = (this.pending.get(id) ?? 0) - 1;
    if (count > 0) this.pending.set(id, count);
    else this.pending.delete(id);
  }

  /**
   * A free address in [first, last], other than `exclude`'s, or null when none is. Random
   * probes first: uniform over the free addresses, so members racing for the same range rarely
   * pick the same one (the next free one after a random start would favour those after long
   * held runs). Then, in a nearly full range, a scan from a random start.
   */
  chooseFree(kind: AddressKind, range: { first: number; last: number }, exclude: ReadonlySet<string>): number | null {
    const size = range.last - range.first + 1;
    if (size <= 0) return null;
    const free = (value: number): boolean => {
      const id = addressId({ kind, value });
      return !this.held.has(id) && !this.pending.has(id) && !exclude.has(id);
    };
    for (let probe = 0; probe < serviceAllocationLimits.randomProbesMax; probe++) {
      const value = range.first + this.options.random.int(size);
      if (free(value)) return value;
    }
    const start = this.options.random.int(size);
    for (let step = 0; step < size; step++) {
      const value = range.first + ((start + step) % size);
      if (free(value)) return value;
    }
    return null;
  }

  private async list(timeoutMs?: number): Promise<{ held: Set<string>; revision: number }> {
    const held = new Set<string>();
    const end = prefixEnd(allocationRecordsPrefix);
    let key = allocationRecordsPrefix;
    let revision = 0;
    // Bounded by the ranges' sizes (a /12 and 65,535 ports) over the page size.
    for (;;) {
      const { result } = await this.options.client.range(
        { key, end, limit: serviceAllocationLimits.viewListPageKeys, revision, keysOnly: true },
        { consistency: 'linearizable', ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
      );
      if (revision === 0) revision = result.revision;
      for (const kv of result.kvs) {
        const address = parseRecordKey(kv.key);
        if (address !== null) held.add(addressId(address));
      }
      const last = result.kvs[result.kvs.length - 1];
      if (!result.more || last === undefined) return { held, revision };
      key = `${last.key}\u0000`;
    }
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      const { held, revision } = await this.list();
      this.held = held;
      this.markSynced();
      this.watch = await this.options.client.watch({
        range: { key: allocationRecordsPrefix, prefix: true },
        startRevision: revision + 1,
        onEvents: (events) => this.apply(events),
        onError: (error) => this.resumeLater(error.message),
      });
      if (this.stopped) this.watch.close();
      this.delayMs = serviceAllocationLimits.viewResumeDelayMinMs;
    } catch (error) {
      this.resumeLater((error as Error).message);
    }
  }

  private apply(events: readonly WatchEvent[]): void {
    for (const event of events) {
      const address = parseRecordKey(event.kv.key);
      if (address === null) continue;
      if (event.type === 'put') this.held.add(addressId(address));
      else this.held.delete(addressId(address));
    }
  }

  private resumeLater(reason: string): void {
    if (this.stopped) return;
    this.watch?.close();
    this.watch = null;
    this.options.logger.debug('service allocation view resumes', { reason, delayMs: this.delayMs });
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.resync();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, serviceAllocationLimits.viewResumeDelayMaxMs);
  }
}
