/**
 * The replicated state machine: etcd's MVCC key-value model over one ordered table.
 *
 * - One global revision, advanced once per write command that changes the key space (a txn is
 *   one revision; a delete of nothing, a txn of reads, compaction and lease bookkeeping are not).
 * - Each key has createRevision, modRevision and version (reset by a delete); deletes leave
 *   tombstones in history so reads at older revisions and watchers see them.
 * - Reads at revision R: FutureRevisionError if R > current; CompactedError if R < compact
 *   revision (etcd's rule: the compact revision itself stays readable). Watch replay must start
 *   strictly after the compact revision (see event-log.ts).
 * - Leases: grant, attach on put, revoke deletes the attached keys at one revision, checkpoint
 *   records the remaining time the leader measured.
 * - Alarms: a raised NOSPACE alarm (a replicated command, see alarm-table.ts) makes apply refuse
 *   every command that adds data with StorageFullError, identically on every member.
 *
 * Decision: the table is the whole state; nothing is cached in memory except the events of the
 * last apply and whether a NOSPACE alarm is raised (see alarm-table.ts for why that one is exact).
 * So a restart that re-opens the table, an aborted transaction, and a restored
 * snapshot all leave this object consistent without any reload step, and `hash()` covers it all.
 *
 * Decision: every check that can refuse a command runs before its first write. The Raft driver
 * applies a batch of entries in one transaction and keeps going after a refused command, so a
 * command must be refused whole or applied whole.
 *
 * Determinism: the only inputs are the command and the table; no clock, no randomness, and
 * every iteration is in table (byte) order.
 */
import type { KvTable } from '../backend.js';
import { assert } from '../../bus/assert.js';
import { CompactedError, FutureRevisionError, InvalidRequestError, LeaseNotFoundError } from '../errors.js';
import { compactHistory } from './compaction.js';
import { compareHolds } from './compare.js';
import { eventsSince, type EventsSince } from './event-log.js';
import { byteRange, inByteRange, metaKeys, readUint64, uint64Bytes } from './key-layout.js';
import { KeyReader } from './key-reader.js';
import { LeaseTable } from './lease-table.js';
import { addsData, AlarmTable } from './alarm-table.js';
import { RevisionWriter } from './revision-writer.js';
import { hashTable, restoreTable, snapshotTable } from './table-snapshot.js';
import { checkMvccInvariants } from './invariants.js';
import type {
  AlarmInfo, DeleteRequest, DeleteResult, KeyRange, LeaseCheckpoint, LeaseInfo, PutRequest, PutResult, RangeRequest, RangeResult, TxnOp,
  TxnRequest, TxnResponse, WatchEvent, WriteCommand, WriteResult,
} from './types.js';
import { checkCommand, checkDelete, checkPut, checkRangeRequest, checkTxn } from './validate.js';

export class MvccStore {
  private readonly reader: KeyReader;
  private readonly leaseTable: LeaseTable;
  private readonly alarmTable: AlarmTable;
  private applied: readonly WatchEvent[] = [];
  /** The revision `applied` belongs to (0 while it is empty). */
  private appliedRevision = 0;
  /** Counts grants, revocations and restores applied by this object: a cheap "leases changed" signal, not state. */
  private leaseChanges = 0;
  /** Leases whose remaining time was set (grant, checkpoint) or that were revoked since the last drain; signals, not state. */
  private readonly leaseTouches = { set: new Set<number>(), revoked: new Set<number>(), all: false };

  constructor(private readonly table: KvTable) {
    this.reader = new KeyReader(table);
    this.leaseTable = new LeaseTable(table);
    this.alarmTable = new AlarmTable(table);
  }

  currentRevision(): number {
    return this.readMeta(metaKeys.revision);
  }

  compactRevision(): number {
    return this.readMeta(metaKeys.compactRevision);
  }

  /** The events of the last `apply` (none if it changed no key or was refused). */
  lastEvents(): readonly WatchEvent[] {
    return this.applied;
  }

  /**
   * The revision of `lastEvents()` (0 when there are none): what `currentRevision()` says right
   * after that apply, without a table read (the driver asks after every write).
   */
  lastEventsRevision(): number {
    return this.appliedRevision;
  }

  /** Applies one command inside the caller's write transaction; throws KubusErrors for refusals. */
  apply(command: WriteCommand): WriteResult {
    this.applied = [];
    this.appliedRevision = 0;
    checkCommand(command);
    // Raised through the log, so every member refuses the same commands (etcd's NOSPACE).
    if (addsData(command)) this.alarmTable.refuseIfRaised();
    switch (command.type) {
      case 'put':
        return this.put(command.request);
      case 'delete':
        return this.delete(command.request);
      case 'txn':
        return this.txn(command.request);
      case 'compact':
        return this.compact(command.revision);
      case 'leaseGrant':
        return this.leaseGrant(command.id, command.ttlMs);
      case 'leaseRevoke':
        return this.leaseRevoke(command.id);
      case 'leaseCheckpoint':
        return this.leaseCheckpoint(command.checkpoints);
      case 'alarmRaise':
        this.alarmTable.raise(command.alarm);
        return { type: 'alarm', revision: this.currentRevision(), alarms: this.alarmTable.list() };
      case 'alarmDisarm':
        this.alarmTable.disarm();
        return { type: 'alarm', revision: this.currentRevision(), alarms: [] };
    }
  }

  range(request: RangeRequest): RangeResult {
    checkRangeRequest(request);
    return this.read(request, { current: this.currentRevision(), latestIsCurrent: true });
  }

  /** Watch replay; see event-log.ts for the contract. Throws CompactedError at or below compaction. */
  eventsSince(range: KeyRange, fromRevision: number, limit: number): EventsSince {
    return eventsSince(this.table, this.reader, { range, fromRevision, limit }, { current: this.currentRevision(), compact: this.compactRevision() });
  }

  leases(options: { withKeys?: boolean } = {}): LeaseInfo[] {
    return this.leaseTable.list(options);
  }

  /** Raised alarms (replicated state): while a NOSPACE alarm is raised, writes that add data are refused. */
  alarms(): AlarmInfo[] {
    return this.alarmTable.list();
  }

  lease(id: number): LeaseInfo | null {
    const lease = this.leaseTable.get(id);
    return lease === null ? null : { id, ttlMs: lease.ttlMs, remainingMs: lease.remainingMs, keys: this.leaseTable.keys(id) };
  }

  snapshotData(): Uint8Array {
    return snapshotTable(this.table);
  }

  /** Replaces the whole state; inside the caller's write transaction. */
  restore(data: Uint8Array): void {
    restoreTable(this.table, data);
    this.alarmTable.forget();
    this.applied = [];
    this.appliedRevision = 0;
    this.leaseChanges++;
    this.leaseTouches.all = true;
  }

  /**
   * Which leases had their remaining time set (granted or checkpointed) or were revoked since the
   * last call, or `all` after a restore: every member notes when it learned each lease's
   * remaining time, so that as the next leader it counts the time since then (see
   * store/lease-scheduler.ts). Bounded by the number of leases.
   */
  drainLeaseTouches(): { all: boolean; set: number[]; revoked: number[] } {
    const drained = { all: this.leaseTouches.all, set: [...this.leaseTouches.set], revoked: [...this.leaseTouches.revoked] };
    this.leaseTouches.set.clear();
    this.leaseTouches.revoked.clear();
    this.leaseTouches.all = false;
    return drained;
  }

  /**
   * Changes when a lease was granted or revoked here, or the state restored: the leader's lease
   * timers compare it to find leases they do not time yet (a grant proposed by an earlier leader
   * and applied only now) without scanning the lease table on every tick.
   */
  leaseChangeCount(): number {
    return this.leaseChanges;
  }

  /** Hex digest of the whole state: equal on members that applied the same commands. */
  hash(): string {
    return hashTable(this.table);
  }

  /** Full-scan structural check (tests, simulation); throws AssertionError on an impossible state. */
  checkInvariants(): void {
    checkMvccInvariants(this.table);
  }

  // ---- commands -----------------------------------------------------------------------------

  private put(request: PutRequest): PutResult {
    checkPut(request);
    this.checkPutTargets(request);
    const writer = this.writer();
    const previous = writer.put(request);
    this.commit(writer);
    return { type: 'put', revision: writer.revision, prevKv: request.prevKv === true ? previous : null };
  }

  private delete(request: DeleteRequest): DeleteResult {
    checkDelete(request);
    const writer = this.writer();
    const deleted = writer.deleteRange(request);
    this.commit(writer);
    return { type: 'delete', revision: this.currentRevision(), deleted: deleted.length, prevKvs: request.prevKv === true ? deleted : [] };
  }

  private txn(request: TxnRequest): WriteResult {
    checkTxn(request, (range, key) => inByteRange(key, byteRange(range)));
    const succeeded = request.compare.every((compare) => compareHolds(compare, this.reader.latest(compare.key)));
    const ops = succeeded ? request.success : request.failure;
    // Exact before any write: a branch never puts a key twice nor deletes a key it puts.
    for (const op of ops) if (op.type === 'put') this.checkPutTargets(op.request);
    for (const op of ops) if (op.type === 'range' && (op.request.revision ?? 0) !== 0) this.checkReadRevision(op.request.revision ?? 0, this.currentRevision());
    const before = this.currentRevision();
    const writer = this.writer();
    const responses = ops.map((op) => this.txnOp(op, writer, before));
    this.commit(writer);
    const revision = this.currentRevision();
    // Every response carries the txn's final revision (a branch that changed nothing keeps it).
    const settled = responses.map((response): TxnResponse => (response.type === 'range' ? { type: 'range', result: { ...response.result, revision } } : { ...response, revision }));
    return { type: 'txn', revision, succeeded, responses: settled };
  }

  private txnOp(op: TxnOp, writer: RevisionWriter, before: number): TxnResponse {
    switch (op.type) {
      case 'put': {
        const previous = writer.put(op.request);
        return { type: 'put', revision: writer.revision, prevKv: op.request.prevKv === true ? previous : null };
      }
      case 'delete': {
        const deleted = writer.deleteRange(op.request);
        return { type: 'delete', revision: writer.revision, deleted: deleted.length, prevKvs: op.request.prevKv === true ? deleted : [] };
      }
      case 'range':
        // Revision 0 reads the latest state, this txn's earlier writes included (etcd); an explicit
        // revision reads history only, which the txn's own writes are above.
        return { type: 'range', result: this.read(op.request, { current: before, latestIsCurrent: (op.request.revision ?? 0) === 0 }) };
    }
  }

  private compact(revision: number): WriteResult {
    const current = this.currentRevision();
    const compacted = this.compactRevision();
    if (revision <= compacted) throw new CompactedError(revision, compacted);
    if (revision > current) throw new FutureRevisionError(revision, current);
    compactHistory(this.table, compacted, revision);
    this.table.put(metaKeys.compactRevision, uint64Bytes(revision));
    return { type: 'compact', revision: current, compactRevision: revision };
  }

  private leaseGrant(id: number, ttlMs: number): WriteResult {
    if (this.leaseTable.get(id) !== null) throw new InvalidRequestError(`lease ${id} already exists`);
    this.leaseTable.put(id, { ttlMs, remainingMs: ttlMs });
    this.leaseChanges++;
    this.leaseTouches.set.add(id);
    this.leaseTouches.revoked.delete(id);
    return { type: 'leaseGrant', revision: this.currentRevision(), id, ttlMs };
  }

  private leaseRevoke(id: number): WriteResult {
    if (this.leaseTable.get(id) === null) throw new LeaseNotFoundError(id);
    const writer = this.writer();
    const keys = this.leaseTable.keys(id);
    for (const key of keys) {
      const kv = this.reader.latest(key);
      assert(kv !== null && kv.lease === id, () => `lease ${id} lists key ${key}, which is not attached to it`);
      writer.deleteKey(kv);
    }
    this.leaseTable.remove(id);
    this.leaseChanges++;
    this.leaseTouches.set.delete(id);
    this.leaseTouches.revoked.add(id);
    this.commit(writer);
    return { type: 'leaseRevoke', revision: this.currentRevision(), id, deleted: keys.length };
  }

  /** Unknown ids are skipped: the lease may have been revoked after the leader measured it. */
  private leaseCheckpoint(checkpoints: readonly LeaseCheckpoint[]): WriteResult {
    let updated = 0;
    for (const { id, remainingMs } of checkpoints) {
      const lease = this.leaseTable.get(id);
      if (lease === null) continue;
      this.leaseTable.put(id, { ttlMs: lease.ttlMs, remainingMs: Math.min(remainingMs, lease.ttlMs) });
      this.leaseTouches.set.add(id);
      updated++;
    }
    return { type: 'leaseCheckpoint', revision: this.currentRevision(), updated };
  }

  // ---- helpers ------------------------------------------------------------------------------

  private read(request: RangeRequest, at: { current: number; latestIsCurrent: boolean }): RangeResult {
    const revision = (request.revision ?? 0) === 0 ? at.current : (request.revision as number);
    this.checkReadRevision(revision, at.current);
    const options = { limit: request.limit ?? 0, keysOnly: request.keysOnly === true, countOnly: request.countOnly === true };
    const range = byteRange(request);
    const scan = revision === at.current && at.latestIsCurrent ? this.reader.scanLatest(range, options) : this.reader.scanAt(range, revision, options);
    return { kvs: scan.kvs, more: !options.countOnly && scan.count > scan.kvs.length, count: scan.count, revision: at.current };
  }

  private checkReadRevision(revision: number, current: number): void {
    if (revision > current) throw new FutureRevisionError(revision, current);
    const compacted = this.compactRevision();
    if (revision < compacted) throw new CompactedError(revision, compacted);
  }

  /** Refusals a put can meet against the current state: a missing lease, or nothing to keep. */
  private checkPutTargets(request: PutRequest): void {
    if (request.ignoreLease === true && this.reader.latest(request.key) === null) {
      throw new InvalidRequestError(`ignoreLease needs an existing key; ${request.key} does not exist`);
    }
    const lease = request.lease ?? 0;
    if (lease !== 0 && this.leaseTable.get(lease) === null) throw new LeaseNotFoundError(lease);
  }

  private writer(): RevisionWriter {
    return new RevisionWriter(this.table, { reader: this.reader, leases: this.leaseTable }, this.currentRevision() + 1);
  }

  private commit(writer: RevisionWriter): void {
    if (!writer.changed()) return;
    this.table.put(metaKeys.revision, uint64Bytes(writer.revision));
    this.applied = writer.events;
    this.appliedRevision = writer.revision;
  }

  private readMeta(key: Uint8Array): number {
    const bytes = this.table.get(key);
    return bytes === undefined ? 0 : readUint64(bytes);
  }
}
