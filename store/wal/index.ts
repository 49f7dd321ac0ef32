/** The write-ahead log for the Raft log (issue 14): what members and the simulation use. */
export { WalLog, type WalLogOptions } from './wal-log.js';
export type { WalFiles } from './wal-files.js';
export { NodeWalFiles } from './node-wal-files.js';
export { MemoryWalFiles, type MemoryWalFilesOptions } from './memory-wal-files.js';
export { walLimits } from './limits.js';
