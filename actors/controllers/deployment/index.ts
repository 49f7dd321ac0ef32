/** The Deployment controller and its pure decisions (rollout arithmetic, revisions, status). */
export { deploymentController } from './deployment-controller.js';
export { deploymentLimits } from './limits.js';
export * from './pod-template-hash.js';
export * from './rollout-math.js';
export * from './revisions.js';
export * from './deployment-status.js';
