/**
 * Leader behaviour: replication (probe / pipelined replicate / snapshot), the commit rule, reads,
 * proposals and leadership transfer. Functions over the Raft state so that raft.ts stays one
 * concept (roles and elections) and this file another.
 *
 * The commit rule (Raft §5.4.2, "figure 8"): the leader advances commit only to an index that a
 * quorum of voters has matched AND whose entry is of the leader's current term; older entries are
 * committed indirectly with it. The no-op appended on election makes that happen promptly.
 */
import { assert } from '../../bus/assert.js';
import { ProposalDroppedError } from '../errors.js';
import { allMembers, quorumMatch, hasQuorum } from './conf.js';
import { Progress } from './progress.js';
import type { Raft } from './raft.js';
import type { ReadRequest } from './read-only.js';
import type { EntryType, MemberId, Message } from './types.js';
import { raftLimits } from './limits.js';

export function initLeader(r: Raft): void {
  syncProgress(r);
  // Conservative: an unapplied conf change may sit anywhere in the inherited log.
  r.pendingConfIndex = r.log.lastIndex();
  appendEntry(r, 'normal', new Uint8Array(0));
}

/** Makes the progress map match the configuration: new members start probing at our log's end. */
export function syncProgress(r: Raft): void {
  const members = new Set(allMembers(r.conf));
  for (const member of members) {
    if (!r.progress.has(member)) r.progress.set(member, new Progress(r.log.lastIndex() + 1, r.config.inflightAppendsMax));
  }
  for (const member of [...r.progress.keys()]) if (!members.has(member)) r.progress.delete(member);
  const self = r.progress.get(r.id);
  if (self !== undefined) {
    // Only what is on our disk counts toward commit (see `selfAck`).
    self.maybeUpdate(stableIndex(r));
    self.becomeReplicate();
  }
}

/**
 * Decision: the leader's own copy of a new entry counts toward commit only once it is durable
 * (`selfAck`, called when the caller confirms persistence with `advance()`), as etcd's leader
 * acknowledges itself only after its storage write. Counting it at append time let a single voter
 * commit at once, and the driver's early appends (sent before the disk write) then announced a
 * commit index its own disk did not hold: after a power cut it could win the same term again and
 * write different data at that index, breaking log matching on its learners.
 */
export function appendEntry(r: Raft, type: EntryType, data: Uint8Array): { index: number; term: number } {
  const entry = { term: r.term, index: r.log.lastIndex() + 1, type, data };
  r.log.append(entry);
  r.uncommittedBytes += data.length;
  r.appendsPending = true;
  return { index: entry.index, term: entry.term };
}

/**
 * Decision: a new entry goes to the followers when the next Ready is taken, not when it is
 * appended, so the proposals that arrive together travel as one append per follower (and come
 * back as one answer each) instead of one append per proposal: at 256 concurrent writes that was
 * most of a leader's Raft messages. Nothing waits longer for it: the caller takes the Ready that
 * persists the entry anyway, and a leader's appends in that Ready may go out before its own
 * write, as before. An append something else sent in between (an answer's pipeline refill, a
 * commit broadcast) already carried the entries, so only followers still missing some get one.
 */
export function flushAppends(r: Raft): void {
  if (!r.appendsPending) return;
  r.appendsPending = false;
  if (r.role !== 'leader') return;
  for (const member of r.progress.keys()) if (member !== r.id) sendAppend(r, member, false);
}

/** The leader's entries up to the log's stable index are durable: its own acknowledgement. */
export function selfAck(r: Raft): void {
  const self = r.progress.get(r.id);
  if (self === undefined || !self.maybeUpdate(stableIndex(r))) return;
  // A single voter commits here, alone; with more voters, answers may already form a quorum.
  if (maybeCommit(r)) bcastAppend(r);
}

/** The last index handed out for persistence and confirmed by `advance()`. */
function stableIndex(r: Raft): number {
  return Math.min(r.log.unstableFrom - 1, r.log.lastIndex());
}

/** Refuses a proposal of `bytes` that would overfill the uncommitted log (one is always let in). */
export function checkUncommitted(r: Raft, bytes: number): void {
  if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > r.config.uncommittedBytesMax) {
    throw new ProposalDroppedError(`the leader holds ${r.uncommittedBytes} uncommitted bytes (limit ${r.config.uncommittedBytesMax})`);
  }
}

export function committedInCurrentTerm(r: Raft): boolean {
  return r.log.term(r.log.committed) === r.term;
}

export function maybeCommit(r: Raft): boolean {
  const index = quorumMatch(r.conf, (member) => r.progress.get(member)?.match ?? 0);
  if (index <= r.log.committed || r.log.term(index) !== r.term) return false;
  const firstInTerm = !committedInCurrentTerm(r);
  for (let i = r.log.committed + 1; i <= index; i++) r.uncommittedBytes -= r.log.entryAt(i)?.data.length ?? 0;
  r.uncommittedBytes = Math.max(0, r.uncommittedBytes);
  r.log.commitTo(index);
  if (firstInTerm) for (const request of r.readOnly.takeWaiting()) startRead(r, request);
  return true;
}

// ---- sending ----------------------------------------------------------------------------------

/** Sends `to` what it is missing, if its progress allows. Returns whether a message was sent. */
export function sendAppend(r: Raft, to: MemberId, sendIfEmpty = true): boolean {
  const progress = r.progress.get(to);
  if (progress === undefined || to === r.id || progress.isPaused()) return false;
  const prevIndex = progress.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = r.log.slice(progress.next, r.log.lastIndex() + 1, r.config.appendBytesMax);
  if (prevTerm === null || entries === null) return sendSnapshot(r, to, progress);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: 'append', to, prevIndex, prevTerm, entries, commit: r.log.committed });
  progress.sentAppend(prevIndex + entries.length, entries.length);
  return true;
}

function sendSnapshot(r: Raft, to: MemberId, progress: Progress): boolean {
  // Snapshots are large: only send one to a member that answered recently.
  if (!r.recentlyHeard().has(to)) return false;
  const snapshot = r.snapshot;
  assert(snapshot !== null, () => `follower ${to} needs compacted entries but no snapshot is held`);
  r.send({ type: 'snapshot', to, snapshot });
  progress.becomeSnapshot(snapshot.meta.index);
  return true;
}

export function bcastAppend(r: Raft): void {
  for (const member of r.progress.keys()) if (member !== r.id) sendAppend(r, member);
}

export function bcastHeartbeat(r: Raft, context: string): void {
  for (const [member, progress] of r.progress) {
    if (member === r.id) continue;
    r.send({ type: 'heartbeat', to: member, commit: Math.min(progress.match, r.log.committed), context });
  }
}

// ---- answers ----------------------------------------------------------------------------------

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'appendResponse':
      handleAppendResponse(r, m);
      return;
    case 'heartbeatResponse':
      handleHeartbeatResponse(r, m);
      return;
    case 'readIndex':
      handleReadIndex(r, { context: m.context, from: m.from });
      return;
    default:
      // Another leader in our term cannot exist; stale answers and our own message types are ignored.
      return;
  }
}

function handleAppendResponse(r: Raft, m: Extract<Message, { type: 'appendResponse' }>): void {
  const progress = r.progress.get(m.from);
  if (progress === undefined) return;
  if (m.reject) {
    if (progress.maybeDecrTo(m.index, m.rejectHint)) {
      if (progress.state === 'replicate') progress.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = progress.isPaused();
  if (!progress.maybeUpdate(m.index)) return;
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot' && progress.match + 1 >= r.log.firstIndex()) {
    progress.becomeProbe();
    progress.becomeReplicate();
  }
  if (maybeCommit(r)) bcastAppend(r);
  else if (wasPaused) sendAppend(r, m.from);
  // Fill the pipeline; bounded by the inflight window.
  for (let sent = 0; sent < r.config.inflightAppendsMax && sendAppend(r, m.from, false); sent++);
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) {
    r.send({ type: 'timeoutNow', to: m.from });
  }
}

function handleHeartbeatResponse(r: Raft, m: Extract<Message, { type: 'heartbeatResponse' }>): void {
  const progress = r.progress.get(m.from);
  if (progress === undefined) return;
  progress.onHeartbeatResponse();
  if (progress.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (m.context === '') return;
  for (const done of r.readOnly.ack(m.context, m.from, (acks) => hasQuorum(r.conf, acks))) answerRead(r, done.request, done.index);
}

// ---- reads ------------------------------------------------------------------------------------

/** A read from the leader's own client (`from` = self) or forwarded by a follower. */
export function handleReadIndex(r: Raft, request: ReadRequest): void {
  // A duplicate (the network delivered it twice): the read already held will answer it.
  if (r.readOnly.has(request.context)) return;
  if (r.readOnly.isFull()) {
    if (request.from === r.id) throw new ProposalDroppedError(`too many linearizable reads pending (limit ${raftLimits.readIndexPendingMax})`);
    r.send({ type: 'readIndexResponse', to: request.from, context: request.context, index: 0, reject: true });
    return;
  }
  // Until it commits in its term, the leader's commit index may lag the cluster's: wait.
  if (!committedInCurrentTerm(r)) r.readOnly.wait(request);
  else startRead(r, request);
}

function startRead(r: Raft, request: ReadRequest): void {
  if (r.conf.voters.length === 1 && r.conf.voters[0] === r.id) {
    answerRead(r, request, r.log.committed);
    return;
  }
  r.readOnly.add(request, r.log.committed, r.id);
  bcastHeartbeat(r, request.context);
}

function answerRead(r: Raft, request: ReadRequest, index: number): void {
  if (request.from === r.id) r.readStates.push({ context: request.context, index });
  else r.send({ type: 'readIndexResponse', to: request.from, context: request.context, index, reject: false });
}

// ---- leadership transfer ----------------------------------------------------------------------

export function startTransfer(r: Raft, to: MemberId): void {
  if (to === r.id || r.leadTransferee === to) return;
  r.leadTransferee = to;
  // The transfer is abandoned if it has not finished within one election timeout (see tickLeader).
  r.electionElapsed = 0;
  const progress = r.progress.get(to);
  if (progress !== undefined && progress.match === r.log.lastIndex()) r.send({ type: 'timeoutNow', to });
  else sendAppend(r, to);
}

/** A removed leader hands over to the most caught-up voter so the cluster need not time out. */
export function transferToBestVoter(r: Raft): void {
  let best: MemberId | null = null;
  let bestMatch = -1;
  for (const voter of r.conf.voters) {
    const match = r.progress.get(voter)?.match ?? 0;
    if (voter !== r.id && match > bestMatch) {
      best = voter;
      bestMatch = match;
    }
  }
  if (best !== null && bestMatch === r.log.lastIndex()) r.send({ type: 'timeoutNow', to: best });
}
