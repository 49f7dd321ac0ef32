/**
 * The public face of the Raft core (etcd's RawNode): client calls, `step`, `tick`, and the Ready
 * contract. The caller loops `while (hasReady()) { ready(); persist; send; apply; advance(); }`.
 *
 * Ready semantics (as etcd): `softState` / `hardState` appear only when changed; `entries` are the
 * log entries not yet handed out for persistence (when a conflict truncated the log, they start at
 * the truncation point and the store must drop everything after); `snapshot` is a snapshot received
 * from the leader, to persist and apply (it replaces the log); `committedEntries` are committed,
 * not yet applied entries, bounded per Ready; `advance()` marks all of it persisted and applied,
 * and that is when committed conf changes take effect (see conf.ts) and when a leader's own new
 * entries start to count toward commit (leader.ts `selfAck`). So a Ready's appends and heartbeats
 * never carry a commit beyond what earlier Readys persisted: a leader may send them before its
 * disk write, unless the Ready also changes its term or vote (those must be durable first).
 *
 * Restart: `initial.entries` are the persisted entries after `initial.snapshot`; the configuration
 * is the snapshot's (or `initialConf` without one) with the conf changes up to `applied` replayed.
 */
import { assert } from '../../bus/assert.js';
import { ConfChangeInProgressError, InvalidRequestError, NotLeaderError, ProposalDroppedError } from '../errors.js';
import { applyConfChange, checkPromotion, decodeConfChange, encodeConfChange, validateConfChange } from './conf.js';
import { appendEntry, checkUncommitted, committedInCurrentTerm, flushAppends, handleReadIndex, selfAck, startTransfer } from './leader.js';
import { raftLimits } from './limits.js';
import { Raft, type RaftConfig } from './raft.js';
import { RaftLog } from './raft-log.js';
import type { ProgressState } from './progress.js';
import type { ConfChange, ConfState, Entry, HardState, MemberId, Message, Ready, Role, Snapshot, SoftState } from './types.js';

export type { RaftConfig } from './raft.js';

export interface RaftInitialState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly initialConf: ConfState;
  readonly entries: readonly Entry[];
  readonly applied: number;
}

export interface RaftStatus {
  readonly id: MemberId;
  readonly term: number;
  readonly role: Role;
  readonly leader: MemberId | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly conf: ConfState;
  readonly progress: Record<MemberId, { match: number; next: number; state: ProgressState }> | null;
  readonly leadTransferee: MemberId | null;
  readonly pendingConfChange: boolean;
}

/** What a Ready handed out, so that `advance()` confirms exactly that and nothing newer. */
interface Handed {
  readonly lastEntry: { index: number; term: number } | null;
  readonly snapshotIndex: number | null;
  readonly committed: readonly Entry[];
}

export class RaftNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private handed: Handed | null = null;

  constructor(config: RaftConfig, initial: RaftInitialState) {
    const { hardState, snapshot, entries } = initial;
    const log = new RaftLog(snapshot, entries, { committed: hardState.commit, applied: initial.applied });
    let conf = snapshot?.meta.conf ?? initial.initialConf;
    for (let index = log.firstIndex(); index <= log.applied; index++) {
      const entry = log.entryAt(index);
      if (entry?.type === 'confChange') conf = applyConfChange(conf, decodeConfChange(entry.data));
    }
    this.raft = new Raft(config, { term: hardState.term, vote: hardState.vote, conf, log, snapshot });
    this.prevHardState = hardState;
    this.prevSoftState = this.softState();
  }

  // ---- inputs ---------------------------------------------------------------------------------

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  propose(data: Uint8Array): { index: number; term: number } {
    this.requireLeader();
    checkUncommitted(this.raft, data.length);
    return appendEntry(this.raft, 'normal', data);
  }

  /**
   * One change at a time, and only once the leader committed an entry of its term (closes the
   * single-server change hazard; see conf.ts). A removed leader steps down once the change applies.
   */
  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.requireLeader();
    const r = this.raft;
    if (!committedInCurrentTerm(r)) throw new ConfChangeInProgressError('the new leader has not committed an entry of its term yet; retry shortly');
    if (r.pendingConfIndex > r.log.applied) throw new ConfChangeInProgressError();
    validateConfChange(r.conf, change);
    checkPromotion(r, change);
    const data = encodeConfChange(change);
    checkUncommitted(r, data.length);
    const ticket = appendEntry(r, 'confChange', data);
    r.pendingConfIndex = ticket.index;
    return ticket;
  }

  readIndex(context: string): void {
    const r = this.raft;
    if (r.role === 'leader') {
      handleReadIndex(r, { context, from: r.id });
      return;
    }
    if (r.leader === null) throw new NotLeaderError(null);
    r.send({ type: 'readIndex', to: r.leader, context });
  }

  transferLeadership(to: MemberId): void {
    const r = this.raft;
    if (r.role !== 'leader') throw new NotLeaderError(r.leader);
    if (!r.conf.voters.includes(to)) throw new InvalidRequestError(`cannot transfer leadership to ${to}: not a voter`);
    startTransfer(r, to);
  }

  compact(snapshot: Snapshot): void {
    this.raft.log.compact(snapshot.meta);
    if (snapshot.meta.index > (this.raft.snapshot?.meta.index ?? 0)) this.raft.snapshot = snapshot;
  }

  reportUnreachable(to: MemberId): void {
    const progress = this.raft.role === 'leader' ? this.raft.progress.get(to) : undefined;
    if (progress?.state === 'replicate') progress.becomeProbe();
  }

  reportSnapshot(to: MemberId, ok: boolean): void {
    const progress = this.raft.role === 'leader' ? this.raft.progress.get(to) : undefined;
    if (progress?.state !== 'snapshot') return;
    // On failure, probe from the match; on success, from after the snapshot. Either way wait for
    // the next heartbeat answer before sending, as the follower may still be busy restoring.
    if (!ok) progress.pendingSnapshot = 0;
    progress.becomeProbe();
    progress.probeSent = true;
  }

  private requireLeader(): void {
    const r = this.raft;
    if (r.role !== 'leader') throw new NotLeaderError(r.leader);
    if (r.leadTransferee !== null) throw new ProposalDroppedError(`leadership is being transferred to ${r.leadTransferee}`);
  }

  // ---- Ready ----------------------------------------------------------------------------------

  /** Asked after every input: compares fields in place rather than building what `ready()` hands out. */
  hasReady(): boolean {
    const r = this.raft;
    const log = r.log;
    const soft = this.prevSoftState;
    const hard = this.prevHardState;
    return (
      r.leader !== soft.leader ||
      r.role !== soft.role ||
      r.term !== hard.term ||
      r.vote !== hard.vote ||
      log.committed !== hard.commit ||
      r.appendsPending ||
      log.unstableFrom <= log.lastIndex() ||
      log.pendingSnapshot !== null ||
      r.messages.length > 0 ||
      r.readStates.length > 0 ||
      log.hasCommittedToApply()
    );
  }

  ready(): Ready {
    const r = this.raft;
    assert(this.handed === null, 'ready() called again before advance()');
    flushAppends(r);
    const softState = this.softState();
    const hardState = this.hardState();
    const entries = r.log.unstableEntries();
    const last = entries[entries.length - 1];
    const committedEntries = r.log.nextCommitted(raftLimits.committedEntriesBytesMax);
    const ready: Ready = {
      softState: sameSoftState(softState, this.prevSoftState) ? null : softState,
      hardState: sameHardState(hardState, this.prevHardState) ? null : hardState,
      entries,
      snapshot: r.log.pendingSnapshot,
      messages: r.messages,
      committedEntries,
      readStates: r.readStates,
    };
    this.prevSoftState = softState;
    this.prevHardState = hardState;
    r.messages = [];
    r.readStates = [];
    this.handed = {
      lastEntry: last === undefined ? null : { index: last.index, term: last.term },
      snapshotIndex: r.log.pendingSnapshot?.meta.index ?? null,
      committed: committedEntries,
    };
    return ready;
  }

  advance(): void {
    const handed = this.handed;
    assert(handed !== null, 'advance() without ready()');
    this.handed = null;
    const log = this.raft.log;
    if (handed.snapshotIndex !== null) log.snapshotApplied(handed.snapshotIndex);
    if (handed.lastEntry !== null) log.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    // The leader's own copy counts toward commit only now that it is durable.
    if (this.raft.role === 'leader') selfAck(this.raft);
    const lastCommitted = handed.committed[handed.committed.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
      this.raft.applyEntries(handed.committed);
    }
  }

  // ---- what others may ask --------------------------------------------------------------------

  status(): RaftStatus {
    const r = this.raft;
    let progress: RaftStatus['progress'] = null;
    if (r.role === 'leader') {
      progress = {};
      for (const [member, p] of r.progress) progress[member] = { match: p.match, next: p.next, state: p.state };
    }
    return {
      id: r.id,
      term: r.term,
      role: r.role,
      leader: r.leader,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      snapshotIndex: r.log.snapshotIndex(),
      conf: r.conf,
      progress,
      leadTransferee: r.leadTransferee,
      pendingConfChange: r.role === 'leader' && this.hasUnappliedConfEntry(),
    };
  }

  /** Leader: voters heard from within the last election timeout, self included. */
  quorumActive(): { reachable: number; total: number } {
    const r = this.raft;
    const heard = r.recentlyHeard();
    return { reachable: r.conf.voters.filter((voter) => heard.has(voter)).length, total: r.conf.voters.length };
  }

  /** A conf change entry appended but not applied yet (the leader's one-at-a-time guard). */
  private hasUnappliedConfEntry(): boolean {
    const log = this.raft.log;
    for (let index = log.applied + 1; index <= log.lastIndex(); index++) if (log.entryAt(index)?.type === 'confChange') return true;
    return false;
  }

  private softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
