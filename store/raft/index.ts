/**
 * The Raft core: a pure, deterministic state machine (no I/O, no timers, no ambient randomness).
 * The driver (store/raft-driver.ts) feeds it ticks, messages and client calls and performs its
 * Ready batches.
 */
export { RaftNode, type RaftConfig, type RaftInitialState, type RaftStatus } from './raft-node.js';
export type { ProgressState } from './progress.js';
export { encodeConfChange, decodeConfChange } from './conf.js';
export * from './types.js';
