/** The cloud controller manager's loops (issue 12 §4) and their pure decisions. */
export { createServiceController, type CloudControllerDependencies } from './service-controller.js';
export { createCloudNodeController } from './node-controller.js';
export { createCloudNodeLifecycleController, lifecyclePeriodMs } from './node-lifecycle-controller.js';
export {
  eligibleNodes, nodeEligibilityKey, wantsLoadBalancer, hasCleanupFinalizer, planService, serviceSignature, nodeSetSignature, ingressSignature,
  loadBalancerCleanupFinalizer, excludeFromLoadBalancersLabel, toBeDeletedTaint, type ServicePlan, type AppliedBalancer, type PlanInput,
} from './service-decisions.js';
export {
  nodeChanges, mergeAddresses, withSpecChanges, hasSpecChanges, isUninitialized, needsInitialization, lifecycleFirstStep, lifecycleVerdict,
  hasShutdownTaint, uninitializedTaintKey, shutdownTaint, topologyLabels, type NodeChanges, type LifecycleFirstStep, type LifecycleVerdict,
} from './node-decisions.js';
export type { ServiceObject, NodeObject } from './object-types.js';
