/**
 * The shipped providers, registered by name: `local` (load balancers for one machine, like k3s'
 * ServiceLB) and `sim` (a scripted cloud for chaos tests). The registry imports this module
 * before the first lookup, so a process without a cloud provider never loads them.
 */
import { registerCloudProvider } from '../registry.js';
import { createLocalProvider, localProviderName } from './local/index.js';
import { createSimProvider, simProviderName } from './sim/index.js';

registerCloudProvider(localProviderName, createLocalProvider);
registerCloudProvider(simProviderName, createSimProvider);

export * from './local/index.js';
export * from './sim/index.js';
export { AddressPool, AddressPoolError, chooseAddress, fnv1a, type AddressRequest } from './shared/address-pool.js';
export { CloudConfigInvalidError, CloudConfigMissingError } from './shared/errors.js';
export { providerLimits } from './shared/limits.js';
