/**
 * The `local` cloud provider's public surface.
 */
export { createLocalProvider } from './provider.js';
export { localProviderName, defaultLocalPool, loadLocalConfig, parseLocalConfig, type LocalConfig } from './config.js';
export { planPorts, type PortPlan } from './balancers.js';
export { nodeTargetAddress, targetsFor, attemptOrder, type Target } from './targets.js';
export { localLimits, checkLocalLimits } from './limits.js';
export { TcpForwarder } from './tcp-forwarder.js';
export { UdpForwarder } from './udp-forwarder.js';
