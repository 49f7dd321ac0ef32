/**
 * Remembers the results of recently applied writes that carried a request id, so a client that
 * retries a write whose outcome was unknown gets the first result instead of a second apply.
 *
 * It lives in the `meta` table and is written inside the apply transaction, so it is exactly as
 * durable as the write it remembers, and it travels inside snapshots. Eviction is by apply order
 * and therefore deterministic on every member.
 */
import { decode, encode } from '../bus/codec.js';
import type { WireError } from '../bus/errors.js';
import type { KvTable } from './backend.js';
import type { WriteResult } from './mvcc/types.js';

/** Enough to cover every retry window: at 10,000 writes/s a retry has a full second to land. */
export const dedupEntriesMax = 10_000;

export type RememberedOutcome = { readonly ok: true; readonly value: WriteResult } | { readonly ok: false; readonly error: WireError };

const textEncoder = new TextEncoder();
const byIdPrefix = 'dedup/id/';
const bySequencePrefix = 'dedup/seq/';
const counterKey = textEncoder.encode('dedup/counter');

function idKey(requestId: string): Uint8Array {
  return textEncoder.encode(byIdPrefix + requestId);
}

function sequenceKey(sequence: number): Uint8Array {
  return textEncoder.encode(bySequencePrefix + sequence.toString(16).padStart(13, '0'));
}

export class RequestDedup {
  constructor(private readonly table: KvTable) {}

  lookup(requestId: string): RememberedOutcome | null {
    const stored = this.table.get(idKey(requestId));
    return stored === undefined ? null : decode<{ outcome: RememberedOutcome }>(stored).outcome;
  }

  /** Inside the apply transaction. */
  remember(requestId: string, outcome: RememberedOutcome): void {
    const counter = this.counter();
    this.table.put(idKey(requestId), encode({ outcome, sequence: counter.next }));
    this.table.put(sequenceKey(counter.next), textEncoder.encode(requestId));
    let oldest = counter.oldest;
    while (counter.next + 1 - oldest > dedupEntriesMax) {
      const key = sequenceKey(oldest);
      const evicted = this.table.get(key);
      if (evicted !== undefined) {
        this.table.remove(idKey(new TextDecoder().decode(evicted)));
        this.table.remove(key);
      }
      oldest++;
    }
    this.table.put(counterKey, encode({ next: counter.next + 1, oldest }));
  }

  export(): Uint8Array {
    const entries: [Uint8Array, Uint8Array][] = [];
    for (const { key, value } of this.table.range({ start: textEncoder.encode('dedup/'), end: textEncoder.encode('dedup0') })) {
      entries.push([key, value]);
    }
    return encode(entries);
  }

  /** Inside the snapshot-restore transaction: replaces everything remembered. */
  restore(data: Uint8Array): void {
    const keys = [...this.table.range({ start: textEncoder.encode('dedup/'), end: textEncoder.encode('dedup0') })].map((kv) => kv.key);
    for (const key of keys) this.table.remove(key);
    for (const [key, value] of decode<[Uint8Array, Uint8Array][]>(data)) this.table.put(key, value);
  }

  private counter(): { next: number; oldest: number } {
    const stored = this.table.get(counterKey);
    return stored === undefined ? { next: 0, oldest: 0 } : decode(stored);
  }
}
