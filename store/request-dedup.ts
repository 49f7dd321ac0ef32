/**
 * Remembers the results of recently applied writes that carried a request id, so a client that
 * retries a write whose outcome was unknown gets the first result instead of a second apply.
 *
 * It lives in the `meta` table and is written inside the apply transaction, so it is exactly as
 * durable as the write it remembers, and it travels inside snapshots.
 *
 * Decision: a result is kept for the retry window, measured in time, not in entries. A bound by
 * count (it was 10,000) forgets a result after 10,000 later writes, which at 1,000 writes/s is
 * sooner than a client stops retrying (the store client's call deadline is 10 s). Eviction must
 * still be identical on every member (the table is part of the replicated state), so no member
 * reads its own clock here: the leader stamps each entry with its clock when it proposes it
 * (`ProposalStamp`), and eviction compares stamps carried by applied entries only.
 *
 * Stamps of one term come from one leader's monotonic clock and compare directly. Stamps of
 * different leaders do not (each clock counts from its own process start), so an entry of an
 * older term is evicted once the current term's leader has stamped entries spanning a whole
 * window since the first entry of its term: that first entry was proposed after the new leader
 * was elected, hence after every older-term entry it holds was proposed, so a window of the new
 * leader's time is at least a window since the old entry. Time without leader is never counted,
 * which only keeps results longer.
 *
 * A second bound, by bytes, caps the table whatever the rate; reaching it evicts results younger
 * than the window (oldest first), so above `bytesMax / retryWindowMs` of remembered results per
 * second a retry can apply twice. Both bounds are in `requestDedupLimits`.
 */
import { assert } from '../bus/assert.js';
import { decode, encode } from '../bus/codec.js';
import type { WireError } from '../bus/errors.js';
import type { KvTable } from './backend.js';
import type { WriteResult } from './mvcc/types.js';

export const requestDedupLimits = {
  /**
   * How long a result is answered to retries, in the proposing leader's time: three times the
   * store client's default whole-call deadline (10 s), so a retry that starts just before its
   * deadline and waits out a leader change still finds it. A caller that retries one request id
   * for longer than this may apply it twice.
   */
  retryWindowMs: 30_000,
  /**
   * Bytes of remembered results (keys and records) per member: at a typical 200-byte result this
   * covers the whole window up to about 10,000 writes/s; above that (or with large results such
   * as prevKv of big values) the oldest results go early and the window shrinks.
   */
  bytesMax: 64 * 1024 * 1024,
} as const;

/**
 * Start-up check: a store client retries one request id for at most its call deadline, which must
 * fit in the window with room for a leader change (the window counts only leader time).
 */
export function checkRequestDedupLimits(clientCallTimeoutMs: number): void {
  assert(requestDedupLimits.retryWindowMs >= 2 * clientCallTimeoutMs, () => `request dedup window ${requestDedupLimits.retryWindowMs} ms is shorter than twice the client call deadline ${clientCallTimeoutMs} ms`);
}

export type RememberedOutcome = { readonly ok: true; readonly value: WriteResult } | { readonly ok: false; readonly error: WireError };

/** Carried in the Raft entry of a write with a request id: who proposed it, and when. */
export interface ProposalStamp {
  /** The term of the applied entry (the proposing leader's term). */
  readonly term: number;
  /** The proposing leader's clock when it proposed the entry. */
  readonly atMs: number;
}

interface Remembered {
  readonly outcome: RememberedOutcome;
  readonly sequence: number;
}

interface SequenceRecord {
  readonly requestId: string;
  readonly term: number;
  readonly atMs: number;
  readonly bytes: number;
}

/** The table's bookkeeping: apply order, bytes, and the replicated notion of "now". */
interface DedupState {
  next: number;
  oldest: number;
  bytes: number;
  /** The latest applied stamp's term and time, and the time of that term's first stamp. */
  term: number;
  latestMs: number;
  termStartMs: number;
}

const textEncoder = new TextEncoder();
const byIdPrefix = 'dedup/id/';
const bySequencePrefix = 'dedup/seq/';
const stateKey = textEncoder.encode('dedup/state');

function idKey(requestId: string): Uint8Array {
  return textEncoder.encode(byIdPrefix + requestId);
}

function sequenceKey(sequence: number): Uint8Array {
  return textEncoder.encode(bySequencePrefix + sequence.toString(16).padStart(13, '0'));
}

export class RequestDedup {
  constructor(
    private readonly table: KvTable,
    private readonly limits: { readonly retryWindowMs: number; readonly bytesMax: number } = requestDedupLimits,
  ) {}

  lookup(requestId: string): RememberedOutcome | null {
    const stored = this.table.get(idKey(requestId));
    return stored === undefined ? null : decode<Remembered>(stored).outcome;
  }

  /** Inside the apply transaction. */
  remember(requestId: string, outcome: RememberedOutcome, stamp: ProposalStamp): void {
    const state = this.state();
    if (stamp.term > state.term) {
      state.term = stamp.term;
      state.termStartMs = stamp.atMs;
      state.latestMs = stamp.atMs;
    } else {
      state.latestMs = Math.max(state.latestMs, stamp.atMs);
    }
    const key = idKey(requestId);
    const record = encode({ outcome, sequence: state.next } satisfies Remembered);
    const seqKey = sequenceKey(state.next);
    const bytes = key.length + record.length + seqKey.length + 64;
    this.table.put(key, record);
    this.table.put(seqKey, encode({ requestId, term: stamp.term, atMs: stamp.atMs, bytes } satisfies SequenceRecord));
    state.next++;
    state.bytes += bytes;
    this.evict(state);
    this.table.put(stateKey, encode(state));
  }

  /** Results remembered now, and their bytes (for tests and status). */
  size(): { entries: number; bytes: number } {
    const state = this.state();
    let entries = 0;
    for (const _ of this.table.range({ start: textEncoder.encode(bySequencePrefix), end: textEncoder.encode('dedup/seq0') })) entries++;
    return { entries, bytes: state.bytes };
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

  /** Oldest first, while the oldest is past the window or the table is over its bytes. */
  private evict(state: DedupState): void {
    while (state.oldest < state.next) {
      const key = sequenceKey(state.oldest);
      const stored = this.table.get(key);
      if (stored !== undefined) {
        const record = decode<SequenceRecord>(stored);
        if (!this.expired(record, state) && state.bytes <= this.limits.bytesMax) return;
        this.table.remove(idKey(record.requestId));
        this.table.remove(key);
        state.bytes -= record.bytes;
      }
      state.oldest++;
    }
  }

  private expired(record: SequenceRecord, state: DedupState): boolean {
    const sinceMs = record.term === state.term ? record.atMs : state.termStartMs;
    return state.latestMs - sinceMs > this.limits.retryWindowMs;
  }

  private state(): DedupState {
    const stored = this.table.get(stateKey);
    return stored === undefined ? { next: 0, oldest: 0, bytes: 0, term: 0, latestMs: 0, termStartMs: 0 } : decode<DedupState>(stored);
  }
}
