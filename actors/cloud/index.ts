/**
 * The cloud controller manager (issue 12 §4): leader-elected like the controller manager (Lease
 * kube-system/cloud-controller-manager, user system:cloud-controller-manager), running the
 * service, node and node-lifecycle controllers against the provider named by `--cloud-provider`.
 */
import type { ControllerSpec } from '../controllers/runtime/types.js';

export * from './provider.js';
export { createCloudProvider, registerCloudProvider, registeredCloudProviders } from './registry.js';

/** The cloud controller manager's loops (filled by the controllers of actors/cloud/controllers/). */
export const cloudControllerSpecs: readonly ControllerSpec[] = [];
