/**
 * Node lifecycle (health from Leases, Unknown conditions, condition taints, rate-limited NoExecute
 * tainting by zone) and NoExecute taint eviction.
 */
export { nodeLifecycleController, createNodeLifecycleController, nodeLifecycleSettings, nodeLeaseNamespace, type NodeLifecycleSettings } from './node-lifecycle-controller.js';
export { taintEvictionController, createTaintEvictionController } from './taint-eviction-controller.js';
export { observeLease, observeNodeStatus, staleConditions, staleAtMs, readyStatus, kubeletConditionTypes, type NodeHealth, type HealthSettings } from './node-health.js';
export { desiredNoScheduleTaints, nextTaints, noExecuteIntent, hasNoExecuteTaint, type NoExecuteChange, type NoExecuteTaint } from './node-taints.js';
export { computeZoneState, planDisruption, zoneEvictionRate, zoneKey, type DisruptionPlan, type DisruptionSettings, type ZoneState } from './zone-state.js';
export { ZoneTaintQueue } from './zone-taint-queue.js';
export { evictionDecision, noExecuteTaintsOf, timeAddedMs, tolerationStartMs, type EvictionDecision } from './taint-eviction.js';
export { durationOptionMs, numberOption, stringOption, booleanOption, parseDurationMs, type OptionValues } from './option-values.js';
export { InvalidControllerOptionError } from './errors.js';
export { nodeLifecycleLimits } from './limits.js';
export type { NodeObject, PodObject, LeaseObject } from './object-types.js';
