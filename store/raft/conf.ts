/**
 * Membership: validating, encoding and applying single-server changes, and quorum arithmetic.
 *
 * Decision: a change takes effect when its entry is APPLIED (etcd's choice), not when appended
 * (the thesis's choice). Then the configuration at any index is a pure function of the applied
 * prefix, which is exactly what a snapshot at the applied index must record (the driver writes
 * `status().conf` into its snapshots), and a truncated, never-committed change never needs undoing.
 * The known hazard of this choice with single-server changes (a leader of a new term deciding a
 * change against an outdated configuration) is closed as the thesis prescribes: a leader accepts a
 * change only after it committed an entry of its own term, and only one change may be in flight.
 *
 * Conf change entries are JSON (TextEncoder), independent of the driver's entry codec; the driver
 * never decodes them.
 */
import { InvalidConfChangeError, LearnerNotReadyError } from '../errors.js';
import { raftLimits } from './limits.js';
import type { ProgressState } from './progress.js';
import type { Raft } from './raft.js';
import type { ConfChange, ConfState, MemberId } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ type: change.type, member: change.member }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed = JSON.parse(decoder.decode(data)) as { type?: unknown; member?: unknown };
  const { type, member } = parsed;
  if ((type !== 'addLearner' && type !== 'promote' && type !== 'remove') || typeof member !== 'string') {
    throw new InvalidConfChangeError(`malformed conf change entry: ${decoder.decode(data)}`);
  }
  return { type, member };
}

/** Throws InvalidConfChangeError for a change that makes no sense against `conf`. */
export function validateConfChange(conf: ConfState, change: ConfChange): void {
  const isVoter = conf.voters.includes(change.member);
  const isLearner = conf.learners.includes(change.member);
  switch (change.type) {
    case 'addLearner':
      if (isVoter || isLearner) throw new InvalidConfChangeError(`${change.member} is already a ${isVoter ? 'voter' : 'learner'}`);
      return;
    case 'promote':
      if (!isLearner) throw new InvalidConfChangeError(`${change.member} is not a learner, so it cannot be promoted`);
      return;
    case 'remove':
      if (!isVoter && !isLearner) throw new InvalidConfChangeError(`${change.member} is not a member`);
      if (isVoter && conf.voters.length === 1) throw new InvalidConfChangeError(`cannot remove ${change.member}, the last voter`);
      return;
  }
}

/** What the leader knows of a learner it is asked to promote; null when it has no progress for it. */
export interface LearnerView {
  readonly match: number;
  readonly state: ProgressState;
  /** It answered this leader within the last election timeout. */
  readonly active: boolean;
}

/**
 * A learner is promoted only once it has caught up (etcd's isLearnerReady, with an absolute bound):
 * it answers this leader, is being replicated to (not probed, not waiting for a snapshot), holds
 * every entry the leader compacted away, and is at most `learnerCatchUpEntriesMax` entries behind.
 * A voter that must first catch up cannot acknowledge new entries, so promoting it early can stall
 * commits: with 2 voters + 1 far-behind learner promoted, quorum is 2 of 3 and one more failure
 * stops the cluster until the new voter has caught up.
 */
export function checkLearnerCaughtUp(member: MemberId, learner: LearnerView | null, leader: { readonly lastIndex: number; readonly snapshotIndex: number }): void {
  const match = learner?.match ?? 0;
  const ready =
    learner !== null &&
    learner.active &&
    learner.state === 'replicate' &&
    match >= leader.snapshotIndex &&
    leader.lastIndex - match <= raftLimits.learnerCatchUpEntriesMax;
  if (!ready) throw new LearnerNotReadyError(member, match, leader.lastIndex);
}

/** The leader's check before it appends a promotion (see checkLearnerCaughtUp). */
export function checkPromotion(r: Raft, change: ConfChange): void {
  if (change.type !== 'promote') return;
  const progress = r.progress.get(change.member);
  const learner = progress === undefined ? null : { match: progress.match, state: progress.state, active: r.recentlyHeard().has(change.member) };
  checkLearnerCaughtUp(change.member, learner, { lastIndex: r.log.lastIndex(), snapshotIndex: r.log.snapshotIndex() });
}

/** The configuration after `change`. Invalid changes (committed by a buggy peer) leave it as is. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((member) => member !== change.member);
  const learners = conf.learners.filter((member) => member !== change.member);
  switch (change.type) {
    case 'addLearner':
      if (conf.voters.includes(change.member)) return conf;
      return { voters, learners: [...learners, change.member] };
    case 'promote':
      if (!conf.learners.includes(change.member)) return conf;
      return { voters: [...voters, change.member], learners };
    case 'remove':
      if (voters.length === 0) return conf;
      return { voters, learners };
  }
}

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

export function hasQuorum(conf: ConfState, members: ReadonlySet<MemberId>): boolean {
  return conf.voters.filter((voter) => members.has(voter)).length >= quorumSize(conf.voters.length);
}

/** The highest index that a quorum of voters has matched. */
export function quorumMatch(conf: ConfState, matchOf: (member: MemberId) => number): number {
  const matches = conf.voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorumSize(conf.voters.length) - 1] ?? 0;
}

export function allMembers(conf: ConfState): MemberId[] {
  return [...conf.voters, ...conf.learners];
}
