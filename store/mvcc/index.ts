/**
 * The MVCC state machine: etcd's revisioned key-value model over one ordered table, plus the
 * leader-side lease timers. Code outside store/mvcc imports from here (types also from types.ts).
 */
export { MvccStore } from './mvcc-store.js';
export { LeaseKeeper, type LearnedLease } from './lease-keeper.js';
export type { EventsSince } from './event-log.js';
export { mvccLimits, leaseKeeperLimits } from './limits.js';
export { rangeContains } from './key-layout.js';
export { addsData } from './alarm-table.js';
export type {
  AlarmInfo, Compare, CompareOp, DeleteRequest, DeleteResult, KeyRange, KeyValue, LeaseCheckpoint, LeaseInfo, PutRequest, PutResult,
  RangeRequest, RangeResult, TxnOp, TxnRequest, TxnResponse, WatchEvent, WriteCommand, WriteResult,
} from './types.js';
