/** The garbage collector and its pure decisions (for tests). */
export { garbageCollector } from './garbage-collector.js';
export { garbageCollectorLimits } from './limits.js';
export * from './gc-decisions.js';
