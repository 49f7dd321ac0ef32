/** The cluster store's public surface: what members, clients, the CLI and the simulation use. */
export * from './errors.js';
export { tableNames, type Backend, type KvTable, type Bytes, type TableName, type RangeOptions, type SpaceUsage } from './backend.js';
export { MemoryBackend } from './memory-backend.js';
export { LmdbBackend, defaultQuotaBytes, type LmdbBackendOptions } from './lmdb-backend.js';
export { RaftLogStore, readAppliedIndex } from './raft-log-store.js';
export { BackendRaftLog } from './backend-raft-log.js';
export { openMemberStorage, stateMachineDirectory, type MemberStorageOptions } from './member-storage.js';
export { migrateToWal, walDirectory, type WalMigrationResult } from './wal-migration.js';
export type { RaftLogStorage, RaftLogBatch, LoadedRaftLog } from './raft-log-storage.js';
export { RaftDriver, type DriverListener, type RaftDriverOptions } from './raft-driver.js';
export { defaultRaftTiming, driverLimits, type RaftTiming } from './driver-limits.js';
export { storeMemberMachine, closeStorage, type MemberInput, type MemberEmitted, type MemberStorage } from './member-machine.js';
export type { StoreObserver } from './telemetry.js';
export { StoreClient, storeClientLimits, type StoreClientOptions, type WriteOptions, type CallOptions } from './store-client.js';
export { StoreWatch, type WatchOptions } from './store-watch.js';
export type * from './protocol.js';
export type * from './raft/types.js';
export type * from './mvcc/types.js';
