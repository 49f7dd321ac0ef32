/** What the agent gives the proxy (its signature is the agent's contract, agent.ts wires it). */
import type { NodeServicesConfig } from '../agent-context.js';
import type { ServiceCatalog } from '../services/index.js';
import type { PodNetworks, TunnelDialer } from '../tunnel/index.js';

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
