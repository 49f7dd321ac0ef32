/**
 * The node's service proxy (issue 12 §2): ClusterIP and NodePort listeners in user space,
 * round-robin over ready endpoints, ClientIP affinity, draining, RST when nothing is ready,
 * endpoints on other pod networks through the NATS tunnel.
 */
import type { AgentContext, NodeServicesConfig } from '../agent-context.js';
import type { ServiceCatalog } from '../services/catalog.js';
import type { PodNetworks, TunnelDialer } from '../tunnel/types.js';

export interface ServiceProxyDeps {
  readonly catalog: ServiceCatalog;
  readonly config: NodeServicesConfig;
  readonly nodeIp: string;
  readonly dialer: TunnelDialer;
  readonly podNetworks: PodNetworks;
}

export interface ServiceProxy {
  stop(): Promise<void>;
}

/** STUB (issue 12, H2 replaces). */
export function startServiceProxy(_ctx: Pick<AgentContext, 'nodeName' | 'clock' | 'logger'>, _deps: ServiceProxyDeps): ServiceProxy {
  return { stop: async () => undefined };
}
