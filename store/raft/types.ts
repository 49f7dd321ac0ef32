/**
 * The data the Raft core speaks: log entries, persistent state, messages and the Ready batch.
 *
 * Decision: modelled on etcd's raftpb, but as discriminated unions of plain objects so that they
 * cross the bus through msgpackr unchanged and print readably in interaction scripts. Member ids
 * are strings (`s1`, `s2`, ...) because they also name NATS subjects and data directories.
 */
export type MemberId = string;

export const EntryType = { normal: 'normal', confChange: 'confChange' } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Empty for the no-op a new leader appends at the start of its term. */
  readonly data: Uint8Array;
}

/** Term, vote and commit: must be durable before any message that depends on them is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: MemberId | null;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly MemberId[];
  readonly learners: readonly MemberId[];
}

export type ConfChangeType = 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly member: MemberId;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's serialized state at `meta.index`; opaque to the core. */
  readonly data: Uint8Array;
}

interface MessageBase {
  readonly from: MemberId;
  readonly to: MemberId;
  readonly term: number;
}

export type Message =
  | (MessageBase & {
      readonly type: 'append';
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  | (MessageBase & {
      readonly type: 'appendResponse';
      readonly reject: boolean;
      /** On success: the highest index now known to match. On reject: the index that was rejected. */
      readonly index: number;
      /** On reject: the follower's last index, a hint where to back off to. */
      readonly rejectHint: number;
    })
  | (MessageBase & {
      readonly type: 'vote' | 'preVote';
      readonly lastIndex: number;
      readonly lastTerm: number;
      /** Set by a leader transfer: the receiver must not ignore it because it heard a leader recently. */
      readonly force: boolean;
    })
  | (MessageBase & { readonly type: 'voteResponse' | 'preVoteResponse'; readonly reject: boolean })
  | (MessageBase & {
      readonly type: 'heartbeat';
      readonly commit: number;
      /** ReadIndex round context, when the heartbeat carries one; empty otherwise. */
      readonly context: string;
    })
  | (MessageBase & { readonly type: 'heartbeatResponse'; readonly context: string })
  | (MessageBase & { readonly type: 'snapshot'; readonly snapshot: Snapshot })
  | (MessageBase & { readonly type: 'timeoutNow' })
  /** A follower asks the leader for a read index on behalf of its client. */
  | (MessageBase & { readonly type: 'readIndex'; readonly context: string })
  | (MessageBase & { readonly type: 'readIndexResponse'; readonly context: string; readonly index: number; readonly reject: boolean });

export type MessageType = Message['type'];

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly leader: MemberId | null;
  readonly role: Role;
}

/** A linearizable read may be served once the applied index reaches `index`. */
export interface ReadState {
  readonly context: string;
  readonly index: number;
  /**
   * The member a follower forwarded the read to refused it (it is not the leader of this term any
   * more, or its read queue is full); `index` means nothing then. The caller fails the read at once
   * so its client retries elsewhere, instead of letting it wait out its deadline.
   */
  readonly rejected?: true;
}

/**
 * What the caller must do, in this order: persist `hardState`, `snapshot` and `entries` durably;
 * then send `messages`; then apply `snapshot` (if any) and `committedEntries`; then `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
}
