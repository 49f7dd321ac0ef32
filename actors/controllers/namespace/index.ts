/** The namespace controller and its pure decisions (for tests). */
export { namespaceController } from './namespace-controller.js';
export { namespaceControllerLimits } from './limits.js';
export * from './namespace-deletion.js';
