/**
 * The previous format of the Raft log (before issue 14's WAL), kept to read and migrate stores
 * written by it (store/wal-migration.ts) and, behind `BackendRaftLog`, as a `RaftLogStorage` for
 * tests. The applied index (`raft/applied`) stays in `meta` in both formats: it belongs to the
 * state machine, written in the transaction that applies (see `writeAppliedIndex`).
 *
 * The Raft core's durable state on a `Backend`: log entries in the `log` table (keyed by 8-byte
 * big-endian index, so key order is log order), and in the `meta` table the hard state, the
 * latest snapshot, the applied index and the bootstrap configuration (keys under `raft/`; the
 * request dedup table shares `meta` under `dedup/`).
 *
 * Decision: every record is `[format version][CRC-32C of payload][payload]` and is verified when
 * read. A record that fails raises `CorruptedDataError` naming the record; the member stops rather
 * than replay damaged data (a healthy member can always resend it).
 *
 * Decision: the store keeps the first and last index (and the snapshot's index and term) in
 * memory so that `save` costs O(new entries + removed entries), not O(log). The cache follows the
 * writes made by `save`/`compact`; if the transaction around them aborts, the cache no longer
 * matches the disk and this object must be discarded (the driver fails-stop on a failed persist
 * and a restart builds a fresh one from disk).
 *
 * `save`, `saveLocalSnapshot`, `setApplied`, `compact` and `saveBootstrapConf` must run inside
 * `backend.writeSync`.
 */
import { pack, unpack } from 'msgpackr';
import { assert } from '../bus/assert.js';
import type { Backend, Bytes, KvTable } from './backend.js';
import { crc32c } from './checksum.js';
import { CompactedError, CorruptedDataError } from './errors.js';
import type { ConfState, Entry, EntryType, HardState, Snapshot, SnapshotMeta } from './raft/types.js';

export interface PersistedRaftState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Every entry after the snapshot, contiguous and verified. */
  readonly entries: Entry[];
  readonly applied: number;
  /** The configuration the member was bootstrapped with; null before bootstrap. */
  readonly conf: ConfState | null;
}

export interface RaftSave {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };
const recordFormatVersion = 1;
const headerBytes = 5;

const textEncoder = new TextEncoder();
const metaKeys = {
  hardState: textEncoder.encode('raft/hard-state'),
  snapshotMeta: textEncoder.encode('raft/snapshot-meta'),
  snapshotData: textEncoder.encode('raft/snapshot-data'),
  applied: textEncoder.encode('raft/applied'),
  bootstrapConf: textEncoder.encode('raft/bootstrap-conf'),
} as const;

/** The snapshot's metadata record also carries the checksum of its (separately stored) data. */
interface StoredSnapshotMeta extends SnapshotMeta {
  readonly dataChecksum: number;
  readonly dataBytes: number;
}

type StoredEntry = [term: number, index: number, type: EntryType, data: Uint8Array];

export function indexKey(index: number): Bytes {
  assert(Number.isSafeInteger(index) && index >= 0, () => `log index ${index} is not a non-negative safe integer`);
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(index));
  return key;
}

function keyIndex(key: Bytes): number {
  if (key.length !== 8) return -1;
  return Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0));
}

function sealRecord(payload: Uint8Array): Bytes {
  const record = new Uint8Array(headerBytes + payload.length);
  record[0] = recordFormatVersion;
  new DataView(record.buffer).setUint32(1, crc32c(payload));
  record.set(payload, headerBytes);
  return record;
}

/** The verified payload of a record, or a CorruptedDataError naming `where`. */
function openRecord(record: Bytes, where: string): unknown {
  if (record.length < headerBytes) throw new CorruptedDataError(where, `record of ${record.length} bytes is shorter than its header`);
  if (record[0] !== recordFormatVersion) throw new CorruptedDataError(where, `unknown record format ${record[0]}`);
  const stored = new DataView(record.buffer, record.byteOffset, record.byteLength).getUint32(1);
  const payload = record.subarray(headerBytes);
  const actual = crc32c(payload);
  if (stored !== actual) throw new CorruptedDataError(where, `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`);
  try {
    return unpack(payload);
  } catch (error) {
    throw new CorruptedDataError(where, `undecodable record: ${(error as Error).message}`);
  }
}

/** A plain copy: values from the backend may be views into its pages or its memory. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export class RaftLogStore {
  private readonly log: KvTable;
  private readonly meta: KvTable;
  /** Index and term of the stored snapshot; 0/0 without one. */
  private snapshotIndex = 0;
  private snapshotTerm = 0;
  /** Index of the last stored entry, or `snapshotIndex` when the log is empty. */
  private last = 0;

  constructor(private readonly backend: Backend) {
    this.log = backend.table('log');
    this.meta = backend.table('meta');
    this.refreshCache();
  }

  /** Reads and verifies everything; run once at start-up. */
  load(): PersistedRaftState {
    this.refreshCache();
    const hardState = this.readMeta(metaKeys.hardState, 'the raft hard state', parseHardState) ?? emptyHardState;
    const snapshot = this.readSnapshot();
    const entries = this.entries(this.firstIndex(), this.last + 1);
    const applied = this.applied();
    const conf = this.readMeta(metaKeys.bootstrapConf, 'the bootstrap configuration', parseConfState);
    return { hardState, snapshot, entries, applied, conf };
  }

  /**
   * Persists one Ready batch: the snapshot first, then the entries, then the hard state. The
   * batch's snapshot is one received from the leader: the core replaced its whole log with it
   * (RaftLog.restore), so the whole stored log goes too, even a tail that agrees with it at its
   * index; otherwise a restart would bring back entries the core had discarded.
   */
  save(batch: RaftSave): void {
    if (batch.snapshot !== null) this.saveSnapshot(batch.snapshot, { keepTail: false });
    if (batch.entries.length > 0) this.appendEntries(batch.entries);
    if (batch.hardState !== null) {
      const { term, vote, commit } = batch.hardState;
      this.meta.put(metaKeys.hardState, sealRecord(pack({ term, vote, commit })));
    }
  }

  setApplied(index: number): void {
    writeAppliedIndex(this.meta, index);
  }

  applied(): number {
    return readAppliedIndex(this.meta);
  }

  /** True when this backend holds any record of this format besides the applied index (a store to migrate). */
  holdsRaftRecords(): boolean {
    const [anyEntry] = this.log.range({ limit: 1 });
    return anyEntry !== undefined || this.meta.get(metaKeys.hardState) !== undefined || this.meta.get(metaKeys.snapshotMeta) !== undefined || this.meta.get(metaKeys.bootstrapConf) !== undefined;
  }

  /**
   * Removes every record of this format except the applied index (after a migration wrote them
   * elsewhere); inside `backend.writeSync`. This object is unusable afterwards.
   */
  removeRaftRecords(): void {
    this.removeRange(0, Number.MAX_SAFE_INTEGER);
    for (const key of [metaKeys.hardState, metaKeys.snapshotMeta, metaKeys.snapshotData, metaKeys.bootstrapConf]) this.meta.remove(key);
    this.snapshotIndex = 0;
    this.snapshotTerm = 0;
    this.last = 0;
  }

  saveBootstrapConf(conf: ConfState): void {
    this.meta.put(metaKeys.bootstrapConf, sealRecord(pack({ voters: [...conf.voters], learners: [...conf.learners] })));
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  /** The term of the entry at `index` when stored, or the snapshot's at its index; else null. */
  term(index: number): number | null {
    if (index === this.snapshotIndex && this.snapshotIndex > 0) return this.snapshotTerm;
    return this.storedTerm(index);
  }

  lastIndex(): number {
    return this.last;
  }

  /**
   * Verified entries in [lo, hiExclusive), clamped to the stored log. Throws CompactedError when
   * `lo` is covered by the snapshot: the caller must send the snapshot instead.
   */
  entries(lo: number, hiExclusive: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.snapshotIndex);
    const hi = Math.min(hiExclusive, this.last + 1);
    const result: Entry[] = [];
    if (hi <= lo) return result;
    let expected = lo;
    for (const { key, value } of this.log.range({ start: indexKey(lo), end: indexKey(hi) })) {
      const index = keyIndex(key);
      if (index !== expected) throw new CorruptedDataError(`raft log entry ${expected}`, `missing; found ${index === -1 ? 'a malformed key' : `entry ${index}`} instead`);
      result.push(parseEntry(openRecord(value, `raft log entry ${index}`), index));
      expected++;
    }
    if (expected !== hi) throw new CorruptedDataError(`raft log entry ${expected}`, `missing; the log should reach ${hi - 1}`);
    return result;
  }

  /**
   * Records this member's own snapshot of entries it applied (the core compacts its log to it and
   * keeps the entries after it): drops the entries it covers and keeps the tail, which must
   * agree with it at its index.
   */
  saveLocalSnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    const agrees = (index === this.snapshotIndex && term === this.snapshotTerm) || this.storedTerm(index) === term;
    assert(agrees, () => `local snapshot ${term}/${index} does not agree with the stored log`);
    this.saveSnapshot(snapshot, { keepTail: true });
  }

  /** Deletes entries up to `throughIndex` that the stored snapshot covers; others are kept. */
  compact(throughIndex: number): void {
    this.removeRange(0, Math.min(throughIndex, this.snapshotIndex) + 1);
  }

  private saveSnapshot(snapshot: Snapshot, options: { keepTail: boolean }): void {
    const { index, term, conf } = snapshot.meta;
    assert(index >= this.snapshotIndex, () => `snapshot at ${index} is older than the stored one at ${this.snapshotIndex}`);
    const stored: StoredSnapshotMeta = {
      index,
      term,
      conf: { voters: [...conf.voters], learners: [...conf.learners] },
      dataChecksum: crc32c(snapshot.data),
      dataBytes: snapshot.data.length,
    };
    this.meta.put(metaKeys.snapshotMeta, sealRecord(pack(stored)));
    this.meta.put(metaKeys.snapshotData, snapshot.data);
    this.removeRange(0, options.keepTail ? index + 1 : Number.MAX_SAFE_INTEGER);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.last = options.keepTail ? Math.max(this.last, index) : index;
  }

  private appendEntries(entries: readonly Entry[]): void {
    // Entries the snapshot already covers are committed and identical; skip them.
    const fresh = entries.filter((entry) => entry.index > this.snapshotIndex);
    const first = fresh[0];
    if (first === undefined) return;
    assert(first.index <= this.last + 1, () => `append at ${first.index} leaves a gap after the last index ${this.last}`);
    fresh.forEach((entry, offset) => assert(entry.index === first.index + offset, () => `append batch is not contiguous at ${entry.index}`));
    // A new entry at an index we hold means the leader overrode our uncommitted suffix.
    if (first.index <= this.last) this.removeRange(first.index, this.last + 1);
    for (const entry of fresh) {
      const stored: StoredEntry = [entry.term, entry.index, entry.type, entry.data];
      this.log.put(indexKey(entry.index), sealRecord(pack(stored)));
    }
    this.last = (fresh[fresh.length - 1] as Entry).index;
  }

  /** Removes the entries in [lo, hiExclusive); collects keys first so no cursor sees its own deletes. */
  private removeRange(lo: number, hiExclusive: number): void {
    const keys = [...this.log.range({ start: indexKey(lo), end: indexKey(Math.min(hiExclusive, Number.MAX_SAFE_INTEGER)) })].map((kv) => kv.key);
    for (const key of keys) this.log.remove(key);
  }

  /** The term of the stored entry at `index`, or null when it is not stored. */
  private storedTerm(index: number): number | null {
    if (index < this.firstIndex() || index > this.last) return null;
    const value = this.log.get(indexKey(index));
    return value === undefined ? null : parseEntry(openRecord(value, `raft log entry ${index}`), index).term;
  }

  private readSnapshot(): Snapshot | null {
    const meta = this.readMeta(metaKeys.snapshotMeta, 'the raft snapshot metadata', parseSnapshotMeta);
    if (meta === null) return null;
    const data = this.meta.get(metaKeys.snapshotData);
    if (data === undefined) throw new CorruptedDataError(`the raft snapshot at ${meta.index}`, 'its data is missing');
    if (data.length !== meta.dataBytes || crc32c(data) !== meta.dataChecksum) {
      throw new CorruptedDataError(`the raft snapshot at ${meta.index}`, 'its data does not match the checksum recorded with it');
    }
    return { meta: { index: meta.index, term: meta.term, conf: meta.conf }, data: ownBytes(data) };
  }

  private readMeta<T>(key: Bytes, where: string, parse: (value: unknown, where: string) => T): T | null {
    const value = this.meta.get(key);
    return value === undefined ? null : parse(openRecord(value, where), where);
  }

  /** Rebuilds the index cache from disk (O(log n): one snapshot read and one reverse seek). */
  private refreshCache(): void {
    const meta = this.readMeta(metaKeys.snapshotMeta, 'the raft snapshot metadata', parseSnapshotMeta);
    this.snapshotIndex = meta?.index ?? 0;
    this.snapshotTerm = meta?.term ?? 0;
    const [lastStored] = this.log.range({ reverse: true, limit: 1 });
    const lastIndex = lastStored === undefined ? 0 : keyIndex(lastStored.key);
    if (lastIndex === -1) throw new CorruptedDataError('the raft log', 'a key is not an 8-byte index');
    this.last = Math.max(lastIndex, this.snapshotIndex);
    const [firstStored] = this.log.range({ limit: 1 });
    if (firstStored !== undefined && keyIndex(firstStored.key) <= this.snapshotIndex) {
      throw new CorruptedDataError('the raft log', `entry ${keyIndex(firstStored.key)} is covered by the snapshot at ${this.snapshotIndex} but was not removed`);
    }
  }
}

/** The state machine's applied index in `meta` (0 before the first apply); verified like every record. */
export function readAppliedIndex(meta: KvTable): number {
  const value = meta.get(metaKeys.applied);
  return value === undefined ? 0 : parseIndex(openRecord(value, 'the applied index'), 'the applied index');
}

/** Inside the transaction that applies up to `index` (or restores a snapshot at it). */
export function writeAppliedIndex(meta: KvTable, index: number): void {
  meta.put(metaKeys.applied, sealRecord(pack(index)));
}

// ---- record shapes: a checksum catches damage, these catch records that were never valid ----

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function parseIndex(value: unknown, where: string): number {
  if (!isIndex(value)) throw new CorruptedDataError(where, 'not an index');
  return value;
}

function parseHardState(value: unknown, where: string): HardState {
  if (!isObject(value) || !isIndex(value['term']) || !isIndex(value['commit']) || (value['vote'] !== null && typeof value['vote'] !== 'string')) {
    throw new CorruptedDataError(where, 'not a hard state');
  }
  return { term: value['term'], vote: value['vote'] as string | null, commit: value['commit'] };
}

function parseConfState(value: unknown, where: string): ConfState {
  const isIds = (ids: unknown): ids is string[] => Array.isArray(ids) && ids.every((id) => typeof id === 'string');
  if (!isObject(value) || !isIds(value['voters']) || !isIds(value['learners'])) throw new CorruptedDataError(where, 'not a configuration');
  return { voters: value['voters'], learners: value['learners'] };
}

function parseSnapshotMeta(value: unknown, where: string): StoredSnapshotMeta {
  if (!isObject(value) || !isIndex(value['index']) || !isIndex(value['term']) || !isIndex(value['dataChecksum']) || !isIndex(value['dataBytes'])) {
    throw new CorruptedDataError(where, 'not snapshot metadata');
  }
  const conf = parseConfState(value['conf'], where);
  return { index: value['index'], term: value['term'], conf, dataChecksum: value['dataChecksum'], dataBytes: value['dataBytes'] };
}

function parseEntry(value: unknown, index: number): Entry {
  const where = `raft log entry ${index}`;
  if (!Array.isArray(value) || value.length !== 4) throw new CorruptedDataError(where, 'not an entry');
  const [term, storedIndex, type, data] = value as unknown[];
  if (!isIndex(term) || storedIndex !== index || (type !== 'normal' && type !== 'confChange') || !(data instanceof Uint8Array)) {
    throw new CorruptedDataError(where, storedIndex !== index ? `holds entry ${String(storedIndex)}` : 'not an entry');
  }
  return { term, index, type, data: ownBytes(data) };
}
