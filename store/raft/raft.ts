/**
 * The Raft state machine proper (etcd's `raft` struct): terms, votes, roles, ticks and the one
 * `step` every message goes through. Leader-only behaviour (replication, commit, reads, transfer)
 * lives in leader.ts; the public surface with Ready/advance is raft-node.ts.
 *
 * Decision: deterministic by construction. Time is `tick()`, randomness is the injected Prng, and
 * every output is appended to `messages` / `readStates` for the caller to perform.
 *
 * Liveness guards taken from etcd: pre-vote (a node that cannot win does not bump its term, so a
 * rejoining partitioned node does not depose a healthy leader), check-quorum (a leader that has not
 * heard from a quorum within an election timeout steps down, and a follower that heard from a
 * leader within the timeout ignores (pre)votes unless they are forced by a leader transfer).
 */
import { assert } from '../../bus/assert.js';
import type { Prng } from '../../bus/prng.js';
import { applyConfChange, decodeConfChange, hasQuorum } from './conf.js';
import { bcastAppend, bcastHeartbeat, initLeader, maybeCommit, stepLeader, syncProgress, transferToBestVoter } from './leader.js';
import type { Progress } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { raftLimits } from './limits.js';
import type { ConfState, Entry, MemberId, Message, ReadState, Role, Snapshot } from './types.js';

export interface RaftConfig {
  readonly id: MemberId;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightAppendsMax: number;
  readonly appendBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly random: Prng;
}

/** A message before the core stamps sender and term on it. */
export type OutgoingMessage = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & { term?: number } : never) : never;

export class Raft {
  readonly id: MemberId;
  term = 0;
  vote: MemberId | null = null;
  leader: MemberId | null = null;
  role: Role = 'follower';
  conf: ConfState;
  readonly log: RaftLog;
  /** The newest snapshot this member holds, sent to followers whose next entry was compacted. */
  snapshot: Snapshot | null;
  progress = new Map<MemberId, Progress>();
  readonly votes = new Map<MemberId, boolean>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since start; with `lastHeard` (leader: answers in this term) it answers "who did we hear from recently". */
  ticksTotal = 0;
  readonly lastHeard = new Map<MemberId, number>();
  leadTransferee: MemberId | null = null;
  /** Index of the newest conf change the leader may have in its log; one change at a time. */
  pendingConfIndex = 0;
  /** Data bytes the leader appended in this term and not yet committed. */
  uncommittedBytes = 0;
  /** The leader appended entries that wait for `flushAppends` (at the next Ready) to go out. */
  appendsPending = false;
  readonly readOnly = new ReadOnly(raftLimits.readIndexPendingMax);
  /** A timeoutNow arrived while a committed conf change was unapplied. */
  campaignAfterApply = false;
  messages: Message[] = [];
  readStates: ReadState[] = [];

  constructor(readonly config: RaftConfig, initial: { term: number; vote: MemberId | null; conf: ConfState; log: RaftLog; snapshot: Snapshot | null }) {
    assert(config.electionTicks > config.heartbeatTicks && config.heartbeatTicks >= 1, 'raft: need electionTicks > heartbeatTicks >= 1');
    assert(config.inflightAppendsMax >= 1 && config.appendBytesMax >= 1, 'raft: inflight and append limits must be positive');
    this.id = config.id;
    this.term = initial.term;
    this.vote = initial.vote;
    this.conf = initial.conf;
    this.log = initial.log;
    this.snapshot = initial.snapshot;
    this.becomeFollower(this.term, null);
  }

  // ---- outputs --------------------------------------------------------------------------------

  /**
   * Stamps sender and term on the message in place: every caller passes a fresh literal, and
   * copying it (a spread per message) was a visible share of a leader's CPU under load.
   */
  send(message: OutgoingMessage): void {
    const stamped = message as { from?: MemberId; term?: number };
    stamped.from = this.id;
    if (stamped.term === undefined) stamped.term = this.term;
    this.messages.push(message as Message);
  }

  // ---- roles ----------------------------------------------------------------------------------

  /** A voter may campaign; learners and removed members never do. */
  promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.random.int(this.config.electionTicks);
    this.votes.clear();
    this.campaignAfterApply = false;
    this.leadTransferee = null;
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.appendsPending = false;
    this.readOnly.reset();
    this.progress.clear();
  }

  becomeFollower(term: number, leader: MemberId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    // The term and vote stay: a pre-vote that fails must leave no trace.
    this.votes.clear();
    this.leader = null;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate can become leader');
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    // Answers heard in an earlier leadership are no evidence for this term's check-quorum.
    this.lastHeard.clear();
    initLeader(this);
  }

  // ---- time -----------------------------------------------------------------------------------

  tick(): void {
    this.ticksTotal++;
    if (this.role === 'leader') {
      this.tickLeader();
      return;
    }
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !hasQuorum(this.conf, this.recentlyHeard())) {
        this.becomeFollower(this.term, null);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this, this.readOnly.lastContext());
    }
  }

  /** Members heard from within the last election timeout, self included. */
  recentlyHeard(): Set<MemberId> {
    const heard = new Set<MemberId>([this.id]);
    for (const [member, tick] of this.lastHeard) {
      if (this.ticksTotal - tick < this.config.electionTicks) heard.add(member);
    }
    return heard;
  }

  // ---- elections ------------------------------------------------------------------------------

  /** Start an election if allowed. `force` (leader transfer) skips the pre-vote. */
  hup(force: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    // A committed but unapplied conf change might remove us; wait until it is applied.
    if (this.log.hasUnappliedConfChange()) return;
    this.campaign(this.config.preVote && !force ? 'preVote' : 'vote', force);
  }

  private campaign(kind: 'preVote' | 'vote', force: boolean): void {
    let voteTerm: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      this.wonElection(kind);
      return;
    }
    for (const voter of this.conf.voters) {
      if (voter === this.id) continue;
      this.send({ type: kind, to: voter, term: voteTerm, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm(), force });
    }
  }

  private wonElection(kind: 'preVote' | 'vote'): void {
    if (kind === 'preVote') this.campaign('vote', false);
    else this.becomeLeader();
  }

  private poll(from: MemberId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    const yes = new Set<MemberId>();
    const no = new Set<MemberId>();
    for (const [member, vote] of this.votes) (vote ? yes : no).add(member);
    if (hasQuorum(this.conf, yes)) return 'won';
    const undecided = this.conf.voters.filter((voter) => !this.votes.has(voter)).length;
    return yes.size + undecided < Math.floor(this.conf.voters.length / 2) + 1 ? 'lost' : 'pending';
  }

  private handleVoteRequest(m: Extract<Message, { type: 'vote' | 'preVote' }>): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote = this.vote === m.from || (this.vote === null && this.leader === null) || (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A granted pre-vote answers in the candidate's future term so it is not taken as stale.
      this.send({ type: responseType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, reject: true });
    }
  }

  // ---- step -----------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.config.checkQuorum && this.leader !== null && this.electionElapsed < this.config.electionTicks;
        // Heard from a leader recently: this candidate is disruptive (e.g. it was partitioned).
        if (inLease && !m.force) return;
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResponse' && !m.reject)) {
        // Pre-votes live in the future term; they never move ours.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    if (this.role === 'leader') {
      this.noteActive(m);
      stepLeader(this, m);
    } else if (this.role === 'follower') this.stepFollower(m);
    else this.stepCandidate(m);
  }

  /**
   * Check-quorum evidence, as etcd's RecentActive: only a follower's answer to this leader, in
   * this term (the caller has already turned away other terms). Any other message proves nothing:
   * a stale-term leftover or the pre-vote of a member that no longer hears us would keep a
   * leader cut off from the majority in place.
   */
  private noteActive(m: Message): void {
    if (m.type === 'appendResponse' || m.type === 'heartbeatResponse') this.lastHeard.set(m.from, this.ticksTotal);
  }

  /** A message from an older term. */
  private stepStale(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // A deposed leader, possibly cut off: tell it our term so it steps down. (Without this, a
      // node whose term rose while partitioned would be ignored forever once pre-vote stops it
      // from disrupting the cluster.)
      this.send({ type: 'appendResponse', to: m.from, reject: false, index: 0, rejectHint: 0 });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResponse', to: m.from, reject: true });
    } else if (m.type === 'readIndex') {
      this.send({ type: 'readIndexResponse', to: m.from, context: m.context, index: 0, reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send({ type: 'heartbeatResponse', to: m.from, context: m.context });
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        // A removed leader's hand-over arrives with its own removal still unapplied: campaign
        // as soon as it is applied rather than waiting for an election timeout.
        if (this.log.hasUnappliedConfChange()) this.campaignAfterApply = true;
        else this.hup(true);
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResponse', to: m.from, context: m.context, index: 0, reject: true });
        return;
      case 'readIndexResponse':
        this.readStates.push(m.reject ? { context: m.context, index: 0, rejected: true } : { context: m.context, index: m.index });
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        if ((m.type === 'voteResponse') !== (this.role === 'candidate')) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') this.wonElection(this.role === 'candidate' ? 'vote' : 'preVote');
        else if (result === 'lost') this.becomeFollower(this.term, null);
        return;
      }
      case 'readIndex':
        this.send({ type: 'readIndexResponse', to: m.from, context: m.context, index: 0, reject: true });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: Extract<Message, { type: 'append' }>): void {
    if (m.prevIndex < this.log.committed) {
      this.send({ type: 'appendResponse', to: m.from, reject: false, index: this.log.committed, rejectHint: 0 });
      return;
    }
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = this.log.appendFromLeader(m.prevIndex, m.entries);
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.send({ type: 'appendResponse', to: m.from, reject: false, index: lastNew, rejectHint: 0 });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.send({ type: 'appendResponse', to: m.from, reject: true, index: m.prevIndex, rejectHint: hint });
  }

  private handleSnapshot(m: Extract<Message, { type: 'snapshot' }>): void {
    const { meta } = m.snapshot;
    if (meta.index <= this.log.committed) {
      this.send({ type: 'appendResponse', to: m.from, reject: false, index: this.log.committed, rejectHint: 0 });
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the entries; just learn that they are committed.
      this.log.commitTo(meta.index);
    } else {
      this.log.restore(m.snapshot);
      this.snapshot = m.snapshot;
      this.conf = meta.conf;
    }
    this.send({ type: 'appendResponse', to: m.from, reject: false, index: this.log.committed, rejectHint: 0 });
  }

  // ---- membership -----------------------------------------------------------------------------

  /** Called as committed entries are applied: conf changes take effect now (see conf.ts). */
  applyEntries(entries: readonly Entry[]): void {
    this.applyConfEntries(entries);
    if (this.campaignAfterApply && !this.log.hasUnappliedConfChange()) {
      this.campaignAfterApply = false;
      this.hup(true);
    }
  }

  private applyConfEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.type !== 'confChange') continue;
      this.conf = applyConfChange(this.conf, decodeConfChange(entry.data));
      if (this.role !== 'leader') continue;
      syncProgress(this);
      if (this.leadTransferee !== null && !this.conf.voters.includes(this.leadTransferee)) this.leadTransferee = null;
      if (!this.conf.voters.includes(this.id)) {
        // Removed (or demoted) leader: tell everyone the commit, hand over, then step down.
        bcastAppend(this);
        transferToBestVoter(this);
        this.becomeFollower(this.term, null);
        return;
      }
      // New members start probing now; a smaller quorum may already hold more entries.
      maybeCommit(this);
      bcastAppend(this);
    }
  }
}
