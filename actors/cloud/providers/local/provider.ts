/**
 * The `local` cloud provider: load balancers for one machine, like k3s' ServiceLB. Each
 * LoadBalancer Service gets an address from the pool (config.ts) on which this process listens
 * and forwards to the NodePorts of the nodes the service controller hands over (balancers.ts).
 * Instances: one machine is the whole cloud, so every Node exists, runs, and lives in zone and
 * region `local`.
 *
 * Decision: the balancer lives in the process of the elected cloud controller manager. When
 * leadership moves, the new leader's `ensure` calls open the listeners again; the old leader must
 * `stop()` its provider (closing its listeners), or the new one's listen fails with EADDRINUSE
 * and is retried until it does. `stop()` is not final: a later `ensure` listens again.
 */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type {
  CallOptions, CloudProvider, InstanceMetadata, Instances, LoadBalancer, LoadBalancerState, ProviderConfig,
} from '../../provider.js';
import { withinDeadline } from '../shared/deadline.js';
import { defaultLoadBalancerName } from '../shared/service-address.js';
import { LocalBalancers } from './balancers.js';
import { loadLocalConfig, localProviderName } from './config.js';
import { checkLocalLimits } from './limits.js';

export async function createLocalProvider(config: ProviderConfig): Promise<CloudProvider> {
  checkLocalLimits();
  const { pool } = await loadLocalConfig(config.configFile);
  const logger = config.logger.child({ cloudProvider: localProviderName });
  const balancers = new LocalBalancers(pool, config.clock, logger);
  const deadline = (operation: string) => ({ provider: localProviderName, operation, clock: config.clock });
  logger.info('local cloud provider ready', { pool: pool.description });

  const instances: Instances = {
    instanceExists: async () => true,
    instanceShutdown: async () => false,
    instanceMetadata: async (node: Node): Promise<InstanceMetadata> => ({
      providerID: `${localProviderName}://${node.metadata?.name ?? ''}`,
      instanceType: 'local',
      // Empty: the agent's own addresses stay (provider.ts: replaced only when non-empty).
      nodeAddresses: [],
      zone: 'local',
      region: 'local',
    }),
  };

  const loadBalancer: LoadBalancer = {
    loadBalancerName: (_clusterName: string, service: Service) => defaultLoadBalancerName(service),
    getLoadBalancer: async (_clusterName: string, service: Service): Promise<LoadBalancerState> => {
      const address = balancers.address(service);
      return address === null ? { exists: false, ingress: [] } : { exists: true, ingress: [{ ip: address }] };
    },
    ensureLoadBalancer: async (_clusterName, service, nodes, options: CallOptions) => {
      const address = await withinDeadline(balancers.ensure(service, nodes), options, deadline('ensureLoadBalancer'));
      return [{ ip: address }];
    },
    updateLoadBalancer: async (_clusterName, service, nodes, options) => {
      await withinDeadline(balancers.ensure(service, nodes), options, deadline('updateLoadBalancer'));
    },
    ensureLoadBalancerDeleted: async (_clusterName, service, options) => {
      await withinDeadline(balancers.delete(service), options, deadline('ensureLoadBalancerDeleted'));
    },
  };

  return {
    name: localProviderName,
    instances: () => instances,
    loadBalancer: () => loadBalancer,
    routes: () => null,
    stop: () => balancers.stop(),
  };
}
