/** The ReplicaSet controller and its pure decisions (for tests and the Deployment controller). */
export { replicaSetController, ReplicaSetSyncError } from './replicaset-controller.js';
export { Expectations } from './expectations.js';
export { replicaSetLimits } from './limits.js';
export * from './replica-decisions.js';
export { typedInformer, type TypedInformer } from './typed-informer.js';
