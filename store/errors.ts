/**
 * The store's operating errors. Each has a stable code and the fields a caller needs to act; the
 * store client rebuilds them from replies with `storeErrorFactories`.
 *
 * Decision: two errors for quorum loss, because clients must tell them apart: NoQuorum means the
 * request never entered the log and will never apply (safe to retry); OutcomeUnknown means it was
 * proposed and may still commit (retry only with an idempotency key or a precondition).
 */
import { KubusError, type ErrorFactory, type ErrorFields } from '../bus/errors.js';
import type { MemberId } from './raft/types.js';

export class NotLeaderError extends KubusError {
  override readonly name = 'NotLeaderError';
  readonly code = 'notLeader';
  constructor(readonly leaderHint: MemberId | null, message?: string) {
    super(message ?? (leaderHint ? `not the leader; try ${leaderHint}` : 'not the leader, and no leader is known'));
  }
  override fields(): ErrorFields {
    return { leaderHint: this.leaderHint };
  }
}

export class NoQuorumError extends KubusError {
  override readonly name = 'NoQuorumError';
  readonly code = 'noQuorum';
  constructor(readonly reachable: number, readonly total: number, message?: string) {
    super(message ?? `the store has no quorum: ${reachable} of ${total} members reachable, ${Math.floor(total / 2) + 1} needed; the request was not applied`);
  }
  override fields(): ErrorFields {
    return { reachable: this.reachable, total: this.total };
  }
}

export class OutcomeUnknownError extends KubusError {
  override readonly name = 'OutcomeUnknownError';
  readonly code = 'outcomeUnknown';
  constructor(readonly reason: string, message?: string) {
    super(message ?? `the request was proposed but its outcome is unknown (${reason}); it may or may not have been applied`);
  }
  override fields(): ErrorFields {
    return { reason: this.reason };
  }
}

/** The proposal was refused by the core (uncommitted log full, leadership transfer in progress). */
export class ProposalDroppedError extends KubusError {
  override readonly name = 'ProposalDroppedError';
  readonly code = 'proposalDropped';
  constructor(readonly reason: string) {
    super(`proposal dropped: ${reason}; it was not applied`);
  }
  override fields(): ErrorFields {
    return { reason: this.reason };
  }
}

export class ConfChangeInProgressError extends KubusError {
  override readonly name = 'ConfChangeInProgressError';
  readonly code = 'confChangeInProgress';
  constructor(message = 'another membership change is in progress; retry when it has committed') {
    super(message);
  }
}

export class InvalidConfChangeError extends KubusError {
  override readonly name = 'InvalidConfChangeError';
  readonly code = 'invalidConfChange';
}

export class CompactedError extends KubusError {
  override readonly name = 'CompactedError';
  readonly code = 'compacted';
  constructor(readonly requestedRevision: number, readonly compactRevision: number) {
    super(`revision ${requestedRevision} has been compacted (history is kept from revision ${compactRevision}); read at ${compactRevision} or later, watch from ${compactRevision + 1} or later`);
  }
  override fields(): ErrorFields {
    return { requestedRevision: this.requestedRevision, compactRevision: this.compactRevision };
  }
}

export class FutureRevisionError extends KubusError {
  override readonly name = 'FutureRevisionError';
  readonly code = 'futureRevision';
  constructor(readonly requestedRevision: number, readonly currentRevision: number) {
    super(`revision ${requestedRevision} is newer than the current revision ${currentRevision}`);
  }
  override fields(): ErrorFields {
    return { requestedRevision: this.requestedRevision, currentRevision: this.currentRevision };
  }
}

export class RequestTooLargeError extends KubusError {
  override readonly name = 'RequestTooLargeError';
  readonly code = 'requestTooLarge';
  constructor(readonly sizeBytes: number, readonly limitBytes: number) {
    super(`request of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
  override fields(): ErrorFields {
    return { sizeBytes: this.sizeBytes, limitBytes: this.limitBytes };
  }
}

export class InvalidRequestError extends KubusError {
  override readonly name = 'InvalidRequestError';
  readonly code = 'invalidRequest';
}

export class LeaseNotFoundError extends KubusError {
  override readonly name = 'LeaseNotFoundError';
  readonly code = 'leaseNotFound';
  constructor(readonly leaseId: number) {
    super(`lease ${leaseId} not found`);
  }
  override fields(): ErrorFields {
    return { leaseId: this.leaseId };
  }
}

/** Stored data failed its checksum or is structurally impossible; the member refuses to serve. */
export class CorruptedDataError extends KubusError {
  override readonly name = 'CorruptedDataError';
  readonly code = 'corruptedData';
  constructor(readonly where: string, detail: string) {
    super(`corrupted data in ${where}: ${detail}; this member refuses to serve; restore it from a healthy member (remove its data dir and re-add it)`);
  }
  override fields(): ErrorFields {
    return { where: this.where };
  }
}

export class StoreStoppedError extends KubusError {
  override readonly name = 'StoreStoppedError';
  readonly code = 'storeStopped';
  constructor(message = 'the store member is stopping or has failed') {
    super(message);
  }
}

/** A named per-member limit was reached; the message names it and its value. */
export class QuotaExceededError extends KubusError {
  override readonly name = 'QuotaExceededError';
  readonly code = 'quotaExceeded';
  constructor(readonly limit: string, readonly max: number, message?: string) {
    super(message ?? `limit reached: ${limit} (at most ${max})`);
  }
  override fields(): ErrorFields {
    return { limit: this.limit, max: this.max };
  }
}

// ---- space quota (etcd's NOSPACE alarm; see store/space-alarm.ts) ----------------------------

/**
 * A member's data passed its space quota: writes that add data (puts, txns with a put, lease
 * grants) are refused on every member until space is freed and the alarm disarmed. The request
 * was not applied. Deletes, compaction and reads keep working.
 */
export class StorageFullError extends KubusError {
  override readonly name = 'StorageFullError';
  readonly code = 'storageFull';
  constructor(readonly usedBytes: number, readonly quotaBytes: number, readonly member: MemberId | null = null, message?: string, options?: { cause?: unknown }) {
    super(
      message ??
        `the store is out of space${member !== null ? ` (member ${member})` : ''}: ${usedBytes} bytes in use of a ${quotaBytes}-byte quota; ` +
          'writes that add data are refused and were not applied. Free space (delete keys, compact history), then clear the alarm ' +
          'with `kubus alarm disarm`, or restart that member with a larger --quota-bytes',
      options,
    );
  }
  override fields(): ErrorFields {
    return { usedBytes: this.usedBytes, quotaBytes: this.quotaBytes, member: this.member };
  }
}

// ---- membership: learner promotion (see checkLearnerCaughtUp in raft/conf.ts) ----------------

/**
 * The leader refuses to promote a learner that has not caught up with its log: it would be a
 * voter that cannot acknowledge new entries yet. Nothing was proposed; retry once `match` is close
 * to `lastIndex` (the learner answers the leader and needs no snapshot).
 */
export class LearnerNotReadyError extends KubusError {
  override readonly name = 'LearnerNotReadyError';
  readonly code = 'learnerNotReady';
  constructor(readonly member: MemberId, readonly match: number, readonly lastIndex: number, message?: string) {
    super(message ?? `learner ${member} has not caught up with the leader (it holds up to index ${match}, the leader's log ends at ${lastIndex}); it was not promoted, retry when it has caught up`);
  }
  override fields(): ErrorFields {
    return { member: this.member, match: this.match, lastIndex: this.lastIndex };
  }
}

// ---- watch delivery (see store/store-watch.ts) ----------------------------------------------

/**
 * A watch message was lost on the way (NATS dropped it: slow consumer, reconnect): the watch
 * ended rather than skip events. Resume with a new watch from `resumeRevision`.
 */
export class WatchGapError extends KubusError {
  override readonly name = 'WatchGapError';
  readonly code = 'watchGap';
  constructor(readonly expectedSequence: number, readonly receivedSequence: number, readonly resumeRevision: number, message?: string) {
    super(message ?? `watch message ${expectedSequence} was lost (received ${receivedSequence}); the watch ended; resume it from revision ${resumeRevision}`);
  }
  override fields(): ErrorFields {
    return { expectedSequence: this.expectedSequence, receivedSequence: this.receivedSequence, resumeRevision: this.resumeRevision };
  }
}

// ---- request validation at the member's door (see store/request-check.ts) -------------------

/**
 * A store request failed its check before anything was proposed or registered: `field` names the
 * offending field as a path (`command.request.key`, `change.member`, `watch.inbox`). It keeps the
 * `invalidRequest` code, so every caller that handles InvalidRequestError handles it alike: the
 * request was not applied, and sending it again will not change that.
 */
export class InvalidRequestFieldError extends InvalidRequestError {
  constructor(readonly field: string, readonly reason: string, message?: string) {
    super(message ?? `invalid store request: ${field} ${reason}; it was not applied`);
  }
  override fields(): ErrorFields {
    return { field: this.field, reason: this.reason };
  }
}

export const storeErrorFactories: Readonly<Record<string, ErrorFactory>> = {
  notLeader: (m, f) => new NotLeaderError((f['leaderHint'] as MemberId | null) ?? null, m),
  noQuorum: (m, f) => new NoQuorumError(Number(f['reachable']), Number(f['total']), m),
  outcomeUnknown: (m, f) => new OutcomeUnknownError(String(f['reason'] ?? ''), m),
  proposalDropped: (_m, f) => new ProposalDroppedError(String(f['reason'] ?? '')),
  confChangeInProgress: (m) => new ConfChangeInProgressError(m),
  invalidConfChange: (m) => new InvalidConfChangeError(m),
  compacted: (_m, f) => new CompactedError(Number(f['requestedRevision']), Number(f['compactRevision'])),
  futureRevision: (_m, f) => new FutureRevisionError(Number(f['requestedRevision']), Number(f['currentRevision'])),
  requestTooLarge: (_m, f) => new RequestTooLargeError(Number(f['sizeBytes']), Number(f['limitBytes'])),
  invalidRequest: (m, f) => (typeof f['field'] === 'string' ? new InvalidRequestFieldError(f['field'], String(f['reason'] ?? ''), m) : new InvalidRequestError(m)),
  leaseNotFound: (_m, f) => new LeaseNotFoundError(Number(f['leaseId'])),
  corruptedData: (m, f) => new CorruptedDataError(String(f['where'] ?? ''), m),
  storeStopped: (m) => new StoreStoppedError(m),
  quotaExceeded: (m, f) => new QuotaExceededError(String(f['limit'] ?? ''), Number(f['max']), m),
  learnerNotReady: (m, f) => new LearnerNotReadyError(String(f['member'] ?? ''), Number(f['match']), Number(f['lastIndex']), m),
  watchGap: (m, f) => new WatchGapError(Number(f['expectedSequence']), Number(f['receivedSequence']), Number(f['resumeRevision']), m),
  storageFull: (m, f) => new StorageFullError(Number(f['usedBytes']), Number(f['quotaBytes']), typeof f['member'] === 'string' ? f['member'] : null, m),
};
