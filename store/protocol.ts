/**
 * What store clients and members say to each other on `kubus.<cluster>.store.<member>`.
 * Requests are msgpackr-encoded objects of `StoreRequest`; replies use the rpc envelope of
 * bus/rpc.ts (a value, or a typed error that the client rebuilds).
 *
 * Decision: writes carry an optional `requestId`. With one, a member that already applied that
 * id answers the stored result instead of applying again, so a client may retry a write whose
 * outcome is unknown. Without one the client never retries a write that may have applied.
 */
import { isValidToken } from '../bus/subjects.js';
import type { ConfChange, ConfState, MemberId, Role } from './raft/types.js';
import type { AlarmInfo, KeyRange, KeyValue, RangeRequest, RangeResult, WatchEvent, WriteCommand, WriteResult } from './mvcc/types.js';

export type Consistency = 'linearizable' | 'serializable';

export type StoreRequest =
  | {
    readonly type: 'range'; readonly request: RangeRequest; readonly consistency: Consistency;
    /**
     * Serializable only: serve once this member applied this revision (the client's own last
     * write), waiting a bounded time (store/revision-wait.ts); 0 or absent: at once.
     */
    readonly minRevision?: number;
  }
  | { readonly type: 'write'; readonly command: WriteCommand; readonly requestId: string | null }
  | { readonly type: 'leaseKeepAlive'; readonly id: number }
  | { readonly type: 'watchCreate'; readonly watch: WatchCreate }
  | { readonly type: 'watchRenew'; readonly watchIds: readonly string[] }
  | { readonly type: 'watchCancel'; readonly watchId: string }
  | { readonly type: 'status' }
  | { readonly type: 'memberChange'; readonly change: ConfChange }
  | { readonly type: 'transferLeadership'; readonly to: MemberId };

export type StoreRequestType = StoreRequest['type'];

/** Serializable reads say how stale they may be, so callers can decide whether to trust them. */
export interface Staleness {
  readonly member: MemberId;
  readonly appliedIndex: number;
  /** The highest commit index this member has heard of. */
  readonly knownCommitIndex: number;
  /** Milliseconds since this member last heard from a leader; null when it is the leader. */
  readonly leaderContactAgoMs: number | null;
}

export interface RangeResponse {
  readonly result: RangeResult;
  readonly staleness: Staleness | null;
}

/**
 * Where store watches stream: `_INBOX.kubuswatch.<token>`, the form StoreWatch creates. A member
 * publishes only there (request-check.ts refuses any other inbox): its NATS user may publish on
 * every `_INBOX.` (replies to any caller) and on its own Raft subjects, so an inbox left open
 * would let any store client make a member publish as itself wherever it may. Members subscribe
 * to `_INBOX.kubuswatch.>` (bus/nats-auth.ts, `storeWatchInboxes`): the two must agree.
 */
export const storeWatchInboxPrefix = '_INBOX.kubuswatch.';

export function isStoreWatchInbox(subject: unknown): subject is string {
  if (typeof subject !== 'string' || !subject.startsWith(storeWatchInboxPrefix)) return false;
  return isValidToken(subject.slice(storeWatchInboxPrefix.length));
}

export interface WatchCreate {
  readonly watchId: string;
  readonly range: KeyRange;
  /** 0 means "from now". */
  readonly startRevision: number;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  /** Where the member publishes `WatchMessage`s for this watch: a store watch inbox (`isStoreWatchInbox`). */
  readonly inbox: string;
}

/**
 * Decision: every message of one watch carries `sequence`, 1, 2, 3, ... in publish order. NATS may
 * drop a message (slow consumer, reconnect) and nothing else would tell: the client ends the
 * watch on a gap with WatchGapError, and the caller resumes from the last revision it received.
 */
export type WatchMessage =
  | { readonly type: 'events'; readonly watchId: string; readonly sequence: number; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly type: 'progress'; readonly watchId: string; readonly sequence: number; readonly revision: number }
  | { readonly type: 'canceled'; readonly watchId: string; readonly sequence: number; readonly error: { code: string; message: string; fields: Record<string, unknown> } };

/** A watch message as the member builds it, before `sequence` is assigned at publish. */
export type UnsequencedWatchMessage = WatchMessage extends infer M ? (M extends WatchMessage ? Omit<M, 'sequence'> : never) : never;

export interface MemberStatus {
  readonly id: MemberId;
  readonly role: Role;
  readonly leader: MemberId | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly conf: ConfState;
  readonly reachable: number;
  readonly writable: boolean;
  /** Bytes this member's data occupies (pages in use), and its space quota. */
  readonly dbSizeBytes: number | null;
  readonly quotaBytes: number | null;
  /** Raised alarms, as this member applied them (replicated: the same on every caught-up member). */
  readonly alarms: readonly AlarmInfo[];
}

export interface LeaseKeepAliveResponse {
  readonly id: number;
  readonly remainingMs: number;
}

export type { KeyValue, WriteResult };
