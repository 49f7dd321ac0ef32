/**
 * The simulation's disk: ordered tables in memory with the same transaction semantics as LMDB.
 * A write outside `writeSync` is a bug (assertion), so code that forgets its transaction fails in
 * simulation before it fails on LMDB. `reopen()` stands for a power cut between transactions:
 * every durable transaction survives, none of the non-durable ones after the last durable one;
 * `restart()` for a killed process on a running machine: every committed transaction survives.
 */
import { assert } from '../bus/assert.js';
import { tableNames, type TransactionOptions, type Backend, type Bytes, type KeyValue, type KvTable, type RangeOptions, type SpaceUsage, type TableName } from './backend.js';

function compareBytes(a: Bytes, b: Bytes): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

class MemoryTable implements KvTable {
  /** Sorted by key; a binary search finds a key's place. */
  entries: KeyValue[] = [];
  /** Key and value bytes of `entries`, kept as they change (space() is asked before every write). */
  bytes = 0;

  constructor(private readonly inTransaction: () => boolean) {}

  /** Replaces every entry (rollback, reopen) and recounts the bytes. */
  replace(entries: KeyValue[]): void {
    this.entries = entries;
    this.bytes = 0;
    for (const { key, value } of entries) this.bytes += key.length + value.length;
  }

  get(key: Bytes): Bytes | undefined {
    const at = this.search(key);
    return at.found ? (this.entries[at.index] as KeyValue).value : undefined;
  }

  put(key: Bytes, value: Bytes): void {
    assert(this.inTransaction(), 'MemoryTable.put outside writeSync');
    const copy = { key: Uint8Array.from(key), value: Uint8Array.from(value) };
    const at = this.search(key);
    const old = at.found ? (this.entries[at.index] as KeyValue) : null;
    this.bytes += copy.key.length + copy.value.length - (old === null ? 0 : old.key.length + old.value.length);
    if (at.found) this.entries[at.index] = copy;
    else this.entries.splice(at.index, 0, copy);
  }

  remove(key: Bytes): void {
    assert(this.inTransaction(), 'MemoryTable.remove outside writeSync');
    const at = this.search(key);
    if (!at.found) return;
    const old = this.entries[at.index] as KeyValue;
    this.bytes -= old.key.length + old.value.length;
    this.entries.splice(at.index, 1);
  }

  *range(options: RangeOptions): Iterable<KeyValue> {
    const lowIndex = options.start ? this.search(options.start).index : 0;
    const highIndex = options.end ? this.search(options.end).index : this.entries.length;
    const selected = this.entries.slice(lowIndex, Math.max(lowIndex, highIndex));
    if (options.reverse) selected.reverse();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let yielded = 0;
    for (const entry of selected) {
      if (yielded >= limit) return;
      yielded++;
      yield entry;
    }
  }

  private search(key: Bytes): { index: number; found: boolean } {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareBytes((this.entries[middle] as KeyValue).key, key);
      if (order === 0) return { index: middle, found: true };
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    return { index: low, found: false };
  }
}

export class MemoryBackend implements Backend {
  private readonly tables = new Map<TableName, MemoryTable>();
  private depth = 0;
  private closed = false;
  /** The tables as of the last durable commit, while non-durable commits came after it; else null. */
  private durable: Map<TableName, KeyValue[]> | null = null;
  /** No quota unless a test or the simulation sets one (disk-full injection). */
  private quotaBytes = Number.MAX_SAFE_INTEGER;

  constructor() {
    for (const name of tableNames) this.tables.set(name, new MemoryTable(() => this.depth > 0));
  }

  /** Bytes of keys and values stored, against the quota: the same figure on every replay of a seed. */
  space(): SpaceUsage {
    let usedBytes = 0;
    for (const table of this.tables.values()) usedBytes += table.bytes;
    return { usedBytes, quotaBytes: this.quotaBytes };
  }

  /** Sets the quota (a simulated disk of this size); kept across `reopen`. */
  setQuotaBytes(quotaBytes: number): void {
    this.quotaBytes = quotaBytes;
  }

  table(name: TableName): KvTable {
    assert(!this.closed, 'MemoryBackend used after close');
    return this.tables.get(name) as MemoryTable;
  }

  writeSync<T>(fn: () => T, options: TransactionOptions = {}): T {
    assert(!this.closed, 'MemoryBackend used after close');
    if (this.depth > 0) return fn();
    const saved = new Map([...this.tables].map(([name, table]) => [name, table.entries.slice()] as const));
    this.depth++;
    try {
      const result = fn();
      if (options.durable !== false) this.durable = null;
      else if (this.durable === null) this.durable = saved;
      return result;
    } catch (error) {
      for (const [name, entries] of saved) (this.tables.get(name) as MemoryTable).replace(entries);
      throw error;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    this.closed = true;
  }

  /**
   * A fresh handle on the data as a machine crash would leave it: every durable transaction, and
   * none of the non-durable ones committed after the last durable one.
   */
  reopen(): MemoryBackend {
    return this.handleOn(this.durable);
  }

  /** A fresh handle as a killed process finds the data on a machine that kept running: every commit. */
  restart(): MemoryBackend {
    return this.handleOn(null);
  }

  private handleOn(state: Map<TableName, KeyValue[]> | null): MemoryBackend {
    const copy = new MemoryBackend();
    copy.quotaBytes = this.quotaBytes;
    for (const [name, table] of this.tables) (copy.tables.get(name) as MemoryTable).replace((state?.get(name) ?? table.entries).slice());
    return copy;
  }

}

export { compareBytes };
