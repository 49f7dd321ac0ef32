/**
 * The node's service proxy (issue 12 §2): ClusterIP and NodePort listeners in user space,
 * round-robin over ready endpoints, ClientIP affinity, draining, RST when nothing is ready,
 * endpoints on other pod networks through the NATS tunnel.
 */
import type { AgentContext } from '../agent-context.js';
import { createServiceProxy } from './service-proxy.js';
import type { ServiceProxy, ServiceProxyDeps } from './types.js';

export type { ServiceProxy, ServiceProxyDeps } from './types.js';
export { createServiceProxy, type ServiceProxyHandle, type ProxyContext } from './service-proxy.js';
export { startStandaloneProxy, type StandaloneProxyOptions } from './standalone.js';
export { proxyLimits, type ProxyTuning } from './limits.js';
export type { ListenerState } from './listener-machine.js';
export { NoEndpointError, EndpointConnectTimeoutError, AddressNotServedError } from './errors.js';

/** The agent's proxy: serves the catalog's Services on this node until `stop()`. */
export function startServiceProxy(ctx: Pick<AgentContext, 'nodeName' | 'clock' | 'logger'>, deps: ServiceProxyDeps): ServiceProxy {
  return createServiceProxy(ctx, deps);
}
