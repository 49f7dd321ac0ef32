/**
 * The `sim` cloud provider's public surface.
 */
export { createSimProvider, findInstance, type SimCloudProvider } from './provider.js';
export {
  parseSimConfig, simProviderName, defaultSimPool, instanceStates, simConfigExample, type SimConfig, type SimInstance, type InstanceState,
} from './config.js';
export { drawCall, ScriptedApi, type CallDraw } from './scripted-api.js';
export { SimBalancers, type SimBalancer } from './balancers.js';
export { simLimits, checkSimLimits } from './limits.js';
export { SimCloudFile, type SimCloudSpec, type SimInstanceSpec } from './cloud-file.js';
