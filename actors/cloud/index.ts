/**
 * The cloud controller manager (issue 12 §4): leader-elected like the controller manager (Lease
 * kube-system/cloud-controller-manager, user system:cloud-controller-manager), running the
 * service, cloud-node and cloud-node-lifecycle controllers against the provider named by
 * `--cloud-provider`. docs/cloud-providers.md is the provider contract; test/cloud/conformance.ts
 * the suite every provider passes.
 */
export * from './provider.js';
export { createCloudProvider, registerCloudProvider, registeredCloudProviders, loadBuiltinProviders } from './registry.js';
export { loadProviderModule, CloudProviderModuleError } from './provider-module.js';
export { startCloudProvider, cloudControllerSpecs, type StartCloudProviderOptions } from './cloud-manager.js';
export { callProvider, asProviderError, ProviderCallTimeoutError, type ProviderCallOptions } from './provider-call.js';
export { cloudLimits, checkCloudLimits, backoffMs } from './limits.js';
export * from './controllers/index.js';
