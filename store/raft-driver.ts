/**
 * The one place that performs the Raft core's Ready batches, in the order that keeps them safe:
 *
 *   1. a leader sends its appends and heartbeats at once (unless the Ready changes its term or vote);
 *   2. the Raft log (`RaftLogStorage`, the WAL) saves the hard state, a received snapshot and the
 *      new entries, with one sync when the batch holds entries, a snapshot, or a new term or vote;
 *   3. only then the other messages (votes and acknowledgements promise what step 2 made durable);
 *   4. one non-durable state-machine transaction restores a received snapshot, applies the
 *      committed entries and records the applied index;
 *   5. answer clients and feed watchers from what was applied; then advance the core.
 *
 * Decision (issue 14): the log and the state machine are written apart, as etcd does. The log is
 * the durable record (an append and one fdatasync per Ready); the state machine (`Backend`) is
 * written without sync and re-derived from the log after a crash: the applied index is written
 * in the same transaction as what it applied, so the state machine is never ahead or behind
 * within itself, and at start the entries after it are applied again (from the log's snapshot
 * first, when the state machine lost more than the log kept). Committed entries are durable in a
 * quorum's logs, ours included, before anything applies them.
 *
 * Everything here is synchronous and driven by its inputs (ticks, messages, client calls), so the
 * simulation runs the very same code on simulated time, network and disk.
 */
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import { assert } from '../bus/assert.js';
import { KubusError, toWire } from '../bus/errors.js';
import { decode, encode } from '../bus/codec.js';
import type { Backend, KvTable } from './backend.js';
import { RaftNode } from './raft/index.js';
import type { ConfChange, Entry, HardState, MemberId, Message, Ready, Role, Snapshot } from './raft/types.js';
import type { LoadedRaftLog, RaftLogStorage } from './raft-log-storage.js';
import { readAppliedIndex, writeAppliedIndex } from './raft-log-store.js';
import { MvccStore } from './mvcc/index.js';
import type { RangeRequest, RangeResult, WatchEvent, WriteCommand, WriteResult } from './mvcc/types.js';
import { RequestDedup, type RememberedOutcome } from './request-dedup.js';
import { NoQuorumError, NotLeaderError, OutcomeUnknownError, ProposalDroppedError, RequestTooLargeError, StoreStoppedError } from './errors.js';
import { CorruptedDataError, storeErrorFactories } from './errors.js';
import { fromWire } from '../bus/errors.js';
import type { Staleness } from './protocol.js';
import { driverLimits, staggeredThreshold, type RaftTiming } from './driver-limits.js';
import type { StoreObserver } from './telemetry.js';

export interface RaftDriverOptions {
  readonly self: MemberId;
  /** Voters of a brand-new cluster; ignored once the member has state. */
  readonly initialMembers: readonly MemberId[];
  /** The state machine's tables (`mvcc`, `meta`): written without sync, re-derived from `log` after a crash. */
  readonly backend: Backend;
  /** The Raft log, hard state and snapshots: the durable record. */
  readonly log: RaftLogStorage;
  readonly clock: Clock;
  readonly random: Prng;
  readonly timing: RaftTiming;
  /** Sends a Ready's messages; called after they are durable. */
  readonly send: (messages: readonly Message[]) => void;
  /** Entries applied since the last snapshot before a new one is taken and the log compacted. */
  readonly snapshotEveryEntries: number;
  /** Or data bytes applied since the last snapshot, whichever comes first (driverLimits.snapshotEveryBytes). */
  readonly snapshotEveryBytes?: number;
  /** How long and how many bytes of write results are answered to retries (requestDedupLimits by default; the simulator scales the window to its clients' deadlines). */
  readonly dedupLimits?: { readonly retryWindowMs: number; readonly bytesMax: number };
  /**
   * Runs `fn` soon, after the inputs already queued (setImmediate in a process, a zero-delay timer
   * on the simulated clock). Inputs only mark work; one Ready then covers every proposal and
   * message that arrived together, so one fsync serves them all (group commit).
   */
  readonly defer: (fn: () => void) => void;
  /** Metrics sink (proposal, disk commit and apply latency, term and leader); absent in the simulation. */
  readonly observer?: StoreObserver;
}

export interface DriverListener {
  roleChanged?(role: Role, leader: MemberId | null, term: number): void;
  /** Events of one applied revision, after the transaction that applied them committed. */
  applied?(events: readonly WatchEvent[], revision: number): void;
  snapshotRestored?(): void;
  /** Every applied entry, in order (the simulation checks that all members apply the same). */
  entryApplied?(entry: Entry): void;
  /**
   * Log changes once durable: new entries (replacing any stored suffix from their first index),
   * and the index a snapshot now covers (a received snapshot replaces the log; a local one
   * compacts it). The simulation checks log matching from these after every step.
   */
  logPersisted?(entries: readonly Entry[], snapshot: { index: number; received: boolean } | null): void;
}

interface PendingWrite {
  readonly term: number;
  readonly deadlineMs: number;
  readonly resolve: (result: WriteResult | null) => void;
  readonly reject: (error: Error) => void;
}

interface PendingRead {
  readonly deadlineMs: number;
  index: number | null;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface EntryPayload {
  readonly requestId: string | null;
  /** With a request id: the proposing leader's clock, so the dedup table ages results alike everywhere. */
  readonly atMs?: number;
  readonly command: WriteCommand;
}

interface SnapshotPayload {
  readonly mvcc: Uint8Array;
  readonly dedup: Uint8Array;
}

export class RaftDriver {
  readonly mvcc: MvccStore;
  private readonly node: RaftNode;
  private readonly log: RaftLogStorage;
  private readonly meta: KvTable;
  private readonly dedup: RequestDedup;
  private readonly pendingWrites = new Map<number, PendingWrite>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private readonly lastHeardMs = new Map<MemberId, number>();
  private readonly listeners = new Set<DriverListener>();
  private role: Role = 'follower';
  private leader: MemberId | null = null;
  private term = 0;
  private knownCommit = 0;
  private lastLeaderContactMs: number;
  private readSequence = 0;
  /**
   * `<self>:<incarnation>:`, the start of this driver's read contexts. The incarnation is drawn
   * afresh at each start: the leader may still hold a read of an earlier start of this member,
   * and a context it has seen before would be answered with that older read's index, from before
   * writes acknowledged since (a stale linearizable read).
   */
  private readonly readContextPrefix: string;
  private snapshotIndex: number;
  /** Data bytes of the entries applied after `snapshotIndex`: the live log's size in bytes. */
  private appliedBytesSinceSnapshot = 0;
  private stopped = false;
  private processScheduled = false;
  /** Term and vote as last made durable: a Ready that changes only the commit index needs no fsync. */
  private durableTerm = 0;
  private durableVote: MemberId | null = null;

  constructor(private readonly options: RaftDriverOptions) {
    const { backend, self } = options;
    this.log = options.log;
    this.meta = backend.table('meta');
    this.mvcc = new MvccStore(backend.table('mvcc'));
    this.dedup = new RequestDedup(this.meta, options.dedupLimits);
    let state = this.log.load();
    let applied = readAppliedIndex(this.meta);
    // Checked before a bootstrap could overwrite it: a state machine beyond its log means the log
    // lost what was applied (a removed or replaced WAL directory), not a crash.
    if (applied > this.log.lastIndex()) {
      throw new CorruptedDataError('the Raft log', `the state machine has applied up to index ${applied}, but the log ends at ${this.log.lastIndex()}: the log was lost or replaced; restore the member's data directory from a backup or remove the member and add it again empty`);
    }
    const fresh = state.snapshot === null && state.entries.length === 0 && state.hardState.term === 0;
    if (fresh && options.initialMembers.length > 0) state = this.bootstrap(options.initialMembers);
    if (state.snapshot !== null && applied < state.snapshot.meta.index) {
      // The state machine lost transactions the log's snapshot covers (a machine crash before its
      // pages reached the disk), or a received snapshot was saved but not yet restored.
      const snapshot = state.snapshot;
      backend.writeSync(() => this.restoreState(snapshot), { durable: false });
      applied = snapshot.meta.index;
    }
    // Applied entries were committed: the state machine may have kept an apply that the log's
    // unsynced commit-only hard state lost.
    const hardState: HardState = { ...state.hardState, commit: Math.max(state.hardState.commit, applied) };
    this.snapshotIndex = state.snapshot?.meta.index ?? 0;
    for (const entry of state.entries) if (entry.index <= applied) this.appliedBytesSinceSnapshot += entry.data.length;
    this.knownCommit = hardState.commit;
    this.term = hardState.term;
    this.durableTerm = hardState.term;
    this.durableVote = hardState.vote;
    this.lastLeaderContactMs = options.clock.now();
    this.node = new RaftNode(
      {
        id: self,
        electionTicks: options.timing.electionTicks,
        heartbeatTicks: options.timing.heartbeatTicks,
        preVote: true,
        checkQuorum: true,
        inflightAppendsMax: driverLimits.inflightAppendsMax,
        appendBytesMax: driverLimits.appendBytesMax,
        uncommittedBytesMax: driverLimits.uncommittedBytesMax,
        random: options.random,
      },
      {
        hardState,
        snapshot: state.snapshot,
        // A joining member has no configuration until the leader's snapshot brings one.
        initialConf: state.snapshot?.meta.conf ?? { voters: [], learners: [] },
        entries: state.entries,
        applied,
      },
    );
    this.readContextPrefix = `${self}:${incarnationId(options.random)}:`;
    options.observer?.raftState({ role: this.role, leader: this.leader, term: this.term });
  }

  /**
   * Decision: a new cluster starts from an identical snapshot at index 1 on every initial member,
   * carrying the initial configuration, rather than from configuration entries in the log. A
   * member added later starts empty; the leader's log begins after index 1, so the leader must
   * send it a snapshot, and the snapshot brings the configuration. Nothing outside Raft's own
   * state ever defines who the voters are.
   */
  private bootstrap(members: readonly MemberId[]): LoadedRaftLog {
    const snapshot: Snapshot = {
      meta: { index: 1, term: 1, conf: { voters: [...members].sort(), learners: [] } },
      data: encode({ mvcc: this.mvcc.snapshotData(), dedup: this.dedup.export() } satisfies SnapshotPayload),
    };
    const hardState: HardState = { term: 1, vote: null, commit: 1 };
    // Into the log only: the start-up that follows restores the state machine from it, as after a crash.
    this.log.save({ hardState, entries: [], snapshot }, { sync: true });
    return { hardState, snapshot, entries: [] };
  }

  subscribe(listener: DriverListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(): void {
    if (this.stopped) return;
    this.node.tick();
    this.expireDeadlines();
    this.schedule();
  }

  receive(messages: readonly Message[]): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    for (const message of messages) {
      this.lastHeardMs.set(message.from, now);
      if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot') {
        this.lastLeaderContactMs = now;
        if (message.type !== 'snapshot') this.knownCommit = Math.max(this.knownCommit, message.commit);
      }
      this.node.step(message);
    }
    this.schedule();
  }

  reportSnapshot(to: MemberId, ok: boolean): void {
    if (this.stopped) return;
    this.node.reportSnapshot(to, ok);
    this.schedule();
  }

  /** Proposes a write; resolves when it applied here, or fails with a typed error. */
  write(command: WriteCommand, requestId: string | null): Promise<WriteResult> {
    if (requestId !== null) {
      const remembered = this.dedup.lookup(requestId);
      if (remembered !== null) return settle(remembered);
    }
    const data = encode((requestId === null ? { requestId, command } : { requestId, command, atMs: this.options.clock.now() }) satisfies EntryPayload);
    if (data.length > driverLimits.requestBytesMax) {
      return Promise.reject(new RequestTooLargeError(data.length, driverLimits.requestBytesMax));
    }
    const proposed = this.proposeData(data).then((result) => {
      assert(result !== null, 'a write entry applied without a result');
      return result;
    });
    return this.observeProposal(proposed);
  }

  /** Proposes a membership change; resolves once it committed and took effect. */
  changeMembership(change: ConfChange): Promise<void> {
    this.requireLeader();
    const ticket = this.node.proposeConfChange(change);
    const done = this.track(ticket.index, ticket.term);
    this.schedule();
    return done.then(() => undefined);
  }

  transferLeadership(to: MemberId): void {
    this.requireLeader();
    this.node.transferLeadership(to);
    this.schedule();
  }

  /** Linearizable unless asked otherwise; serializable reads come with how stale they may be. */
  async read(request: RangeRequest, consistency: 'linearizable' | 'serializable'): Promise<{ result: RangeResult; staleness: Staleness | null }> {
    if (consistency === 'serializable') return { result: this.mvcc.range(request), staleness: this.staleness() };
    await this.readBarrier();
    return { result: this.mvcc.range(request), staleness: null };
  }

  /** Resolves once this member has applied everything committed before the call (ReadIndex). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new StoreStoppedError());
    if (this.leader === null) return Promise.reject(this.noQuorum());
    const context = `${this.readContextPrefix}${++this.readSequence}`;
    const promise = new Promise<void>((resolve, reject) => {
      this.pendingReads.set(context, { deadlineMs: this.options.clock.now() + this.requestTimeoutMs(), index: null, resolve, reject });
    });
    try {
      this.node.readIndex(context);
    } catch (error) {
      this.pendingReads.delete(context);
      return Promise.reject(error instanceof NotLeaderError ? this.noQuorum() : error);
    }
    this.schedule();
    return promise;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const error = new StoreStoppedError();
    for (const pending of this.pendingWrites.values()) pending.reject(new OutcomeUnknownError('the member stopped'));
    for (const pending of this.pendingReads.values()) pending.reject(error);
    this.pendingWrites.clear();
    this.pendingReads.clear();
  }

  // ---- what others may ask ------------------------------------------------------------------

  /** The core's own view, for checkers and status pages. */
  raftStatus() {
    return this.node.status();
  }

  status() {
    const raft = this.node.status();
    return {
      id: this.options.self,
      role: raft.role,
      leader: raft.leader,
      term: raft.term,
      commitIndex: raft.commit,
      appliedIndex: raft.applied,
      snapshotIndex: raft.snapshotIndex,
      lastIndex: raft.lastIndex,
      revision: this.mvcc.currentRevision(),
      compactRevision: this.mvcc.compactRevision(),
      conf: raft.conf,
      reachable: this.reachable().reachable,
      writable: raft.role === 'leader' && this.reachable().reachable * 2 > raft.conf.voters.length,
      progress: raft.progress,
    };
  }

  isLeader(): boolean {
    return this.role === 'leader';
  }

  /** How many voters this member heard from within an election timeout, itself included. */
  reachable(): { reachable: number; total: number } {
    if (this.role === 'leader') return this.node.quorumActive();
    const voters = this.node.status().conf.voters;
    const windowMs = this.electionTimeoutMs();
    const now = this.options.clock.now();
    let reachable = 0;
    for (const voter of voters) {
      const heard = this.lastHeardMs.get(voter);
      if (voter === this.options.self || (heard !== undefined && now - heard <= windowMs)) reachable++;
    }
    return { reachable, total: voters.length };
  }

  staleness(): Staleness {
    const raft = this.node.status();
    return {
      member: this.options.self,
      appliedIndex: raft.applied,
      knownCommitIndex: Math.max(this.knownCommit, raft.commit),
      leaderContactAgoMs: this.role === 'leader' ? null : Math.round(this.options.clock.now() - this.lastLeaderContactMs),
    };
  }

  // ---- the Ready loop -----------------------------------------------------------------------

  private schedule(): void {
    if (this.processScheduled || this.stopped) return;
    this.processScheduled = true;
    this.options.defer(() => {
      this.processScheduled = false;
      this.process();
    });
  }

  private process(): void {
    let rounds = 0;
    while (!this.stopped && this.node.hasReady()) {
      assert(++rounds <= driverLimits.readyRoundsMax, 'Ready loop did not settle');
      const ready = this.node.ready();
      // A leader may send its appends before its own write (Raft thesis 10.2.1): the core counts
      // its own copy toward commit only after advance(), so they never announce a commit this
      // disk does not hold. Not in the Ready that changes the term or vote (an election): the
      // term they carry must be durable first, or a leader that lost power could come back, win
      // the same term again and write different entries at the same indices. Everything else
      // (votes, acknowledgements) always waits for the disk.
      const leading = (ready.softState?.role ?? this.role) === 'leader';
      const early = leading && !this.changesTermOrVote(ready) ? ready.messages.filter(sendableBeforePersist) : [];
      if (early.length > 0) this.send(early);
      this.persist(ready);
      if (ready.snapshot !== null || ready.entries.length > 0) {
        const snapshot = ready.snapshot === null ? null : { index: ready.snapshot.meta.index, received: true };
        for (const listener of this.listeners) listener.logPersisted?.(ready.entries, snapshot);
      }
      this.send(early.length > 0 ? ready.messages.filter((m) => !sendableBeforePersist(m)) : ready.messages);
      const applied = this.apply(ready);
      this.afterApply(ready, applied);
      this.node.advance();
      // After advance: only then does the core's applied index include this Ready's entries.
      this.serveReads();
    }
    this.maybeSnapshot();
  }

  /**
   * Sends, after checking that no message announces a commit index beyond this member's durable
   * log: one that did could be lost with a power cut while a learner already applied it
   * (fail-stop, as every broken invariant).
   */
  private send(messages: readonly Message[]): void {
    const durableLast = this.log.lastIndex();
    for (const m of messages) {
      if (m.type !== 'append' && m.type !== 'heartbeat') continue;
      assert(m.commit <= durableLast, () => `${m.type} to ${m.to} announces commit ${m.commit} beyond the durable log, which ends at ${durableLast}`);
    }
    this.options.send(messages);
  }

  /** Step 2: votes, terms, entries and snapshots are durable before any message promises them. */
  private persist(ready: Ready): void {
    if (ready.hardState === null && ready.entries.length === 0 && ready.snapshot === null) return;
    // A hard state whose only change is the commit index needs no sync: the commit is re-learned
    // from the leader, and applies are redone from the log.
    const sync = ready.entries.length > 0 || ready.snapshot !== null || this.changesTermOrVote(ready);
    const { clock, observer } = this.options;
    const startedMs = clock.now();
    this.log.save({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot }, { sync });
    if (sync) observer?.diskCommitted(clock.now() - startedMs);
    if (sync && ready.hardState !== null) {
      this.durableTerm = ready.hardState.term;
      this.durableVote = ready.hardState.vote;
    }
  }

  /**
   * Step 4: one state-machine transaction, not durable: what it applies is durable in the log and
   * is applied again after a crash, because the applied index is written in the same transaction.
   */
  private apply(ready: Ready): AppliedBatch {
    const batch: AppliedBatch = { outcomes: [], revisions: [], restored: false };
    if (ready.snapshot === null && ready.committedEntries.length === 0) return batch;
    const { clock, observer } = this.options;
    this.options.backend.writeSync(() => {
      if (ready.snapshot !== null) {
        this.restoreSnapshot(ready.snapshot);
        batch.restored = true;
      }
      const applyStartedMs = clock.now();
      for (const entry of ready.committedEntries) {
        this.appliedBytesSinceSnapshot += entry.data.length;
        batch.outcomes.push({ entry, outcome: this.applyEntry(entry) });
        const events = entry.type === 'normal' && entry.data.length > 0 ? this.mvcc.lastEvents() : [];
        if (events.length > 0) batch.revisions.push({ events, revision: this.mvcc.lastEventsRevision() });
      }
      const last = ready.committedEntries[ready.committedEntries.length - 1];
      if (last !== undefined) writeAppliedIndex(this.meta, last.index);
      if (ready.committedEntries.length > 0) observer?.applied(ready.committedEntries.length, clock.now() - applyStartedMs);
    }, { durable: false });
    return batch;
  }

  private changesTermOrVote(ready: Ready): boolean {
    return ready.hardState !== null && (ready.hardState.term !== this.durableTerm || ready.hardState.vote !== this.durableVote);
  }

  /** Inside the apply transaction. Returns null for entries without a client result. */
  private applyEntry(entry: Entry): RememberedOutcome | null {
    if (entry.type !== 'normal' || entry.data.length === 0) return null;
    const payload = decode<EntryPayload>(entry.data);
    if (payload.requestId !== null) {
      const remembered = this.dedup.lookup(payload.requestId);
      if (remembered !== null) return remembered;
    }
    let outcome: RememberedOutcome;
    try {
      outcome = { ok: true, value: this.mvcc.apply(payload.command) };
    } catch (error) {
      // Unreadable state is not a refusal: applying on would make this member drift. Stop instead.
      if (!(error instanceof KubusError) || error instanceof CorruptedDataError) throw error;
      outcome = { ok: false, error: toWire(error) };
    }
    if (payload.requestId !== null) this.dedup.remember(payload.requestId, outcome, { term: entry.term, atMs: payload.atMs ?? 0 });
    return outcome;
  }

  /** Inside a state-machine transaction: the MVCC key space, the dedup table and the applied index, as of `snapshot`. */
  private restoreState(snapshot: Snapshot): void {
    const payload = decode<SnapshotPayload>(snapshot.data);
    this.mvcc.restore(payload.mvcc);
    this.dedup.restore(payload.dedup);
    writeAppliedIndex(this.meta, snapshot.meta.index);
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    this.restoreState(snapshot);
    this.snapshotIndex = snapshot.meta.index;
    this.appliedBytesSinceSnapshot = 0;
    for (const [index, pending] of this.pendingWrites) {
      if (index <= snapshot.meta.index) {
        pending.reject(new OutcomeUnknownError('replaced by a snapshot from the leader'));
        this.pendingWrites.delete(index);
      }
    }
  }

  private afterApply(ready: Ready, batch: AppliedBatch): void {
    if (ready.softState !== null) this.onSoftState(ready.softState.role, ready.softState.leader);
    if (ready.hardState !== null && ready.hardState.term !== this.term) {
      this.term = ready.hardState.term;
      this.options.observer?.raftState({ role: this.role, leader: this.leader, term: this.term });
    }
    for (const { entry, outcome } of batch.outcomes) {
      for (const listener of this.listeners) listener.entryApplied?.(entry);
      this.answerWrite(entry, outcome);
    }
    if (batch.restored) for (const listener of this.listeners) listener.snapshotRestored?.();
    for (const { events, revision } of batch.revisions) for (const listener of this.listeners) listener.applied?.(events, revision);
    for (const readState of ready.readStates) {
      const pending = this.pendingReads.get(readState.context);
      if (pending === undefined) continue;
      if (readState.rejected === true) {
        // The member we forwarded to is not the leader (any more) or is full: fail now so the
        // client retries elsewhere, rather than after the whole deadline.
        this.pendingReads.delete(readState.context);
        pending.reject(new NotLeaderError(null, 'the member this read was forwarded to refused it (not the leader of this term, or too many reads pending); it was not served'));
      } else {
        pending.index = readState.index;
      }
    }
  }

  private answerWrite(entry: Entry, outcome: RememberedOutcome | null): void {
    const pending = this.pendingWrites.get(entry.index);
    if (pending === undefined) return;
    this.pendingWrites.delete(entry.index);
    if (pending.term !== entry.term) {
      pending.reject(new ProposalDroppedError('a new leader replaced it in the log before it committed'));
    } else if (outcome === null) {
      pending.resolve(null);
    } else if (outcome.ok) {
      pending.resolve(outcome.value);
    } else {
      pending.reject(fromWire(outcome.error, storeErrorFactories));
    }
  }

  private serveReads(): void {
    const applied = this.node.status().applied;
    for (const [context, pending] of this.pendingReads) {
      if (pending.index !== null && pending.index <= applied) {
        this.pendingReads.delete(context);
        pending.resolve();
      }
    }
  }

  private onSoftState(role: Role, leader: MemberId | null): void {
    const wasLeader = this.role === 'leader';
    const previousLeader = this.leader;
    this.role = role;
    this.leader = leader;
    if (leader !== null && leader !== this.options.self) this.lastLeaderContactMs = this.options.clock.now();
    if (wasLeader && role !== 'leader') {
      // They may still commit under the next leader, so the honest answer is "unknown".
      for (const pending of this.pendingWrites.values()) pending.reject(new OutcomeUnknownError('the leader stepped down before it committed'));
      this.pendingWrites.clear();
    }
    if (role !== 'leader' && leader === null) {
      for (const pending of this.pendingReads.values()) pending.reject(this.noQuorum());
      this.pendingReads.clear();
    } else if (leader !== null && previousLeader !== null && leader !== previousLeader) {
      // Straight from one leader to the next: reads the old one had not confirmed are lost (it
      // dropped them stepping down, or will answer in a term we no longer accept). Fail them now
      // so clients retry at once; confirmed ones (with an index) still complete.
      for (const [context, pending] of this.pendingReads) {
        if (pending.index !== null) continue;
        this.pendingReads.delete(context);
        pending.reject(new NotLeaderError(leader, `leadership moved from ${previousLeader} to ${leader} before this read was confirmed; it was not served`));
      }
    }
    for (const listener of this.listeners) listener.roleChanged?.(role, leader, this.node.status().term);
    this.options.observer?.raftState({ role, leader, term: this.node.status().term });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private proposeData(data: Uint8Array): Promise<WriteResult | null> {
    if (this.stopped) return Promise.reject(new StoreStoppedError());
    let ticket: { index: number; term: number };
    try {
      this.requireLeader();
      ticket = this.node.propose(data);
    } catch (error) {
      // A refusal (NotLeader, ProposalDropped during a transfer...) is the returned promise's, never
      // a throw: the lease scheduler's tick calls write() from a timer, and a throw there killed the
      // member (found by the simulation, seed 280).
      return Promise.reject(error);
    }
    const done = this.track(ticket.index, ticket.term);
    this.schedule();
    return done;
  }

  /** Times a write from proposal to its outcome here, for the observer (when there is one). */
  private observeProposal<T>(proposed: Promise<T>): Promise<T> {
    const { observer, clock } = this.options;
    if (observer === undefined) return proposed;
    const startedMs = clock.now();
    return proposed.then(
      (result) => {
        observer.proposalSettled(clock.now() - startedMs, true);
        return result;
      },
      (error: unknown) => {
        observer.proposalSettled(clock.now() - startedMs, false);
        throw error;
      },
    );
  }

  private track(index: number, term: number): Promise<WriteResult | null> {
    return new Promise((resolve, reject) => {
      this.pendingWrites.set(index, { term, deadlineMs: this.options.clock.now() + this.requestTimeoutMs(), resolve, reject });
    });
  }

  private requireLeader(): void {
    if (this.role === 'leader') return;
    if (this.leader !== null) throw new NotLeaderError(this.leader);
    throw this.noQuorum();
  }

  private noQuorum(): NoQuorumError {
    const { reachable, total } = this.reachable();
    return new NoQuorumError(reachable, total);
  }

  private expireDeadlines(): void {
    const now = this.options.clock.now();
    for (const [index, pending] of this.pendingWrites) {
      if (now >= pending.deadlineMs) {
        this.pendingWrites.delete(index);
        pending.reject(new OutcomeUnknownError(`not committed within ${this.requestTimeoutMs()} ms`));
      }
    }
    for (const [context, pending] of this.pendingReads) {
      if (now >= pending.deadlineMs) {
        this.pendingReads.delete(context);
        pending.reject(this.noQuorum());
      }
    }
  }

  private maybeSnapshot(): void {
    const status = this.node.status();
    // By count or by bytes: 10,000 entries of 1.5 MiB would keep 15 GiB of log between snapshots.
    // Thresholds staggered by member (driverLimits.snapshotStaggerFraction): not all at one index.
    const dueByEntries = status.applied - this.snapshotIndex >= staggeredThreshold(this.options.snapshotEveryEntries, this.options.self);
    const dueByBytes = this.appliedBytesSinceSnapshot >= staggeredThreshold(this.options.snapshotEveryBytes ?? driverLimits.snapshotEveryBytes, this.options.self);
    if (!dueByEntries && !dueByBytes) return;
    const index = status.applied;
    const term = this.log.term(index);
    if (term === null) return;
    const snapshot: Snapshot = {
      meta: { index, term, conf: status.conf },
      data: encode({ mvcc: this.mvcc.snapshotData(), dedup: this.dedup.export() } satisfies SnapshotPayload),
    };
    this.log.saveLocalSnapshot(snapshot);
    this.node.compact(snapshot);
    this.snapshotIndex = index;
    this.appliedBytesSinceSnapshot = 0;
    for (const listener of this.listeners) listener.logPersisted?.([], { index, received: false });
  }

  private electionTimeoutMs(): number {
    return this.options.timing.electionTicks * this.options.timing.tickMs;
  }

  /** A write or linearizable read not done by then has an unknown outcome: two election timeouts. */
  private requestTimeoutMs(): number {
    return 2 * this.electionTimeoutMs();
  }
}

interface AppliedBatch {
  readonly outcomes: { entry: Entry; outcome: RememberedOutcome | null }[];
  readonly revisions: { events: readonly WatchEvent[]; revision: number }[];
  restored: boolean;
}

function sendableBeforePersist(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat';
}

/** 64 bits from the member's Prng, which each process start seeds afresh. */
function incarnationId(random: Prng): string {
  return [random.nextUint32(), random.nextUint32()].map((word) => word.toString(16).padStart(8, '0')).join('');
}

function settle(outcome: RememberedOutcome): Promise<WriteResult> {
  return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(fromWire(outcome.error, storeErrorFactories));
}
