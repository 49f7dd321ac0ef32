/** The pod garbage collector: pods of missing Nodes, terminated pods beyond the threshold (see pod-gc-controller.ts). */
export { podGcController, createPodGcController, podGcSettings, type PodGcSettings } from './pod-gc-controller.js';
export { orphanDecision, terminatedToDelete, isTerminated, type OrphanDecision } from './pod-gc.js';
export { podGcLimits } from './limits.js';
