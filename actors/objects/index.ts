/**
 * Kubernetes object knowledge, once, for every component: the API server, the scheduler, the
 * controllers and the node agent import it from here and never grow their own copies.
 */
export * from './quantity.js';
export * from './labels.js';
export * from './meta.js';
export * from './conditions.js';
export * from './taints.js';
export * from './pod.js';
export * from './node-selector.js';
export * from './controller-claim.js';
export * from './disruption-budget.js';
export * from './service-endpoints.js';
export * from './pod-limits.js';
export * from './timestamps.js';
export * from './compiled-selector.js';
