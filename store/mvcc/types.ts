/**
 * The MVCC key-value model's data types: etcd's, reshaped for kubus.
 *
 * Decision: keys are strings (UTF-8, compared bytewise like etcd), values are bytes. Every caller
 * (store client, CLI, simulation workload, control plane) names keys as text, and a string key
 * prints and logs as itself. A key may not contain U+0000: the storage layout uses the 0x00 byte
 * as the separator between a key and its revision (see key-layout.ts).
 *
 * Decision: a range is flat on the request (`{ key, end?, prefix? }`), as the callers build it.
 */

/** A key's state at one revision, as etcd's mvccpb.KeyValue. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the put that created this generation of the key. */
  readonly createRevision: number;
  /** Revision of the last change to the key. */
  readonly modRevision: number;
  /** Number of puts since the key was created; a delete resets it (0 = absent). */
  readonly version: number;
  /** Attached lease id; 0 for none. */
  readonly lease: number;
}

/**
 * Which keys: `key` alone is one key; with `end`, the keys in [key, end) (bytewise); `end` "\0"
 * means every key >= `key`; `prefix` means every key that starts with `key` (an empty key with
 * `prefix` is every key). `prefix` and `end` are exclusive.
 */
export interface KeyRange {
  readonly key: string;
  readonly end?: string;
  readonly prefix?: boolean;
}

export type CompareOp = 'equal' | 'notEqual' | 'greater' | 'less';

/**
 * One txn guard on one key. For an absent key, numeric targets read as 0 and a `value` compare is
 * false whatever the op (etcd's rule).
 */
export type Compare =
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease';
      readonly op: CompareOp;
      readonly value: number;
    }
  | { readonly key: string; readonly target: 'value'; readonly op: CompareOp; readonly value: Uint8Array };

export interface RangeRequest extends KeyRange {
  /** Most keys returned; 0 or absent: all. */
  readonly limit?: number;
  /** Revision to read at; 0 or absent: the current one. */
  readonly revision?: number;
  /** Values come back empty. */
  readonly keysOnly?: boolean;
  /** Only `count`; `kvs` is empty. */
  readonly countOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  /** Keys matched, ignoring `limit`. */
  readonly count: number;
  /** The store's revision when the range was served. */
  readonly revision: number;
}

export interface PutRequest {
  readonly key: string;
  readonly value: Uint8Array;
  /** Lease to attach; 0 or absent detaches any lease. */
  readonly lease?: number;
  /** Return the previous value in the result. */
  readonly prevKv?: boolean;
  /** Keep the key's current lease (the key must exist; `lease` must be absent). */
  readonly ignoreLease?: boolean;
}

export interface DeleteRequest extends KeyRange {
  readonly prevKv?: boolean;
}

export type TxnOp =
  | { readonly type: 'put'; readonly request: PutRequest }
  | { readonly type: 'delete'; readonly request: DeleteRequest }
  | { readonly type: 'range'; readonly request: RangeRequest };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

export interface LeaseCheckpoint {
  readonly id: number;
  readonly remainingMs: number;
}

/** Everything that changes the state machine; one Raft entry carries one. */
export type WriteCommand =
  | { readonly type: 'put'; readonly request: PutRequest }
  | { readonly type: 'delete'; readonly request: DeleteRequest }
  | { readonly type: 'txn'; readonly request: TxnRequest }
  | { readonly type: 'compact'; readonly revision: number }
  | { readonly type: 'leaseGrant'; readonly id: number; readonly ttlMs: number }
  | { readonly type: 'leaseRevoke'; readonly id: number }
  | { readonly type: 'leaseCheckpoint'; readonly checkpoints: readonly LeaseCheckpoint[] }
  /** A member's disk passed its quota: writes that add data are refused until `alarmDisarm`. */
  | { readonly type: 'alarmRaise'; readonly alarm: AlarmInfo }
  /** Clears every alarm (etcd's `alarm disarm`). */
  | { readonly type: 'alarmDisarm' };

export interface PutResult {
  readonly type: 'put';
  readonly revision: number;
  /** The key before the put, when asked for and present. */
  readonly prevKv: KeyValue | null;
}

export interface DeleteResult {
  readonly type: 'delete';
  readonly revision: number;
  readonly deleted: number;
  /** The deleted keys, when asked for. */
  readonly prevKvs: KeyValue[];
}

export type TxnResponse = PutResult | DeleteResult | { readonly type: 'range'; readonly result: RangeResult };

/** `revision` is always the store's revision after the command. */
export type WriteResult =
  | PutResult
  | DeleteResult
  | { readonly type: 'txn'; readonly revision: number; readonly succeeded: boolean; readonly responses: TxnResponse[] }
  | { readonly type: 'compact'; readonly revision: number; readonly compactRevision: number }
  | { readonly type: 'leaseGrant'; readonly revision: number; readonly id: number; readonly ttlMs: number }
  | { readonly type: 'leaseRevoke'; readonly revision: number; readonly id: number; readonly deleted: number }
  | { readonly type: 'leaseCheckpoint'; readonly revision: number; readonly updated: number }
  | { readonly type: 'alarm'; readonly revision: number; readonly alarms: AlarmInfo[] };

/**
 * A raised alarm: etcd's NOSPACE. It names the member whose disk passed its quota and what that
 * member measured when it raised it (the refusal every member answers carries these figures).
 */
export interface AlarmInfo {
  readonly alarm: 'nospace';
  readonly member: string;
  readonly usedBytes: number;
  readonly quotaBytes: number;
}

/**
 * One change. A delete's `kv` carries the key and the deleting revision as `modRevision`, all
 * other fields zero (etcd's tombstone shape). `prevKv` is the key before the change, or null.
 */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | null;
}

export interface LeaseInfo {
  readonly id: number;
  readonly ttlMs: number;
  /** Time left at the last checkpoint; the TTL if never checkpointed. */
  readonly remainingMs: number;
  /** Attached keys, when asked for. */
  readonly keys?: string[];
}
