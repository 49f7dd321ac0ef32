/** Revokes a node's NATS users when its Node is deleted or its bootstrap token revoked (issue 11 §1): see nodecredentials-controller.ts. */
export { nodeCredentialsController, createNodeCredentialsController, type NodeCredentialsRevokerDependencies } from './nodecredentials-controller.js';
export { nodeRevocation, tokenState, liveUsers, type NodeRevocation, type TokenState } from './revocation-plan.js';
export { nodeCredentialsRevokerLimits } from './limits.js';
