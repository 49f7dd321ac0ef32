/**
 * Client-history recording and a linearizability checker for the simulation: clients record
 * what they asked and saw; the checker decides, key by key, whether some sequential order of a
 * register explains it all.
 */
export type { Operation, OperationResult, OperationStatus, RecordedOperation } from './operation.js';
export { HistoryRecorder, type OperationHandle } from './recorder.js';
export { checkLinearizable, type CheckOptions, type LinearizabilityVerdict } from './checker.js';
export { formatHistory, formatOperation } from './format.js';
