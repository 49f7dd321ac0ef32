/**
 * The `sim` cloud provider: a scripted cloud for chaos tests (config.ts). Its instances, zones,
 * API latency, failure rate and balancer pool come from the `--cloud-config` file, re-read on
 * every call, so a test or chaos runner changes the cloud by rewriting the file: an instance set
 * to `terminated` (or removed) no longer exists and its Node must go; `failureRate: 0.5` makes
 * half the calls fail and the controllers must retry without corrupting state.
 *
 * Instances are found by the id in `spec.providerID` (`sim://<id>`), else by the Node's name.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import {
  InstanceNotFoundError, type CloudProvider, type InstanceMetadata, type Instances, type LoadBalancer, type ProviderConfig,
} from '../../provider.js';
import { CloudConfigMissingError } from '../shared/errors.js';
import { defaultLoadBalancerName } from '../shared/service-address.js';
import { SimBalancers } from './balancers.js';
import { simConfigExample, simProviderName, type SimConfig, type SimInstance } from './config.js';
import { SimConfigSource } from './config-source.js';
import { checkSimLimits } from './limits.js';
import { ScriptedApi } from './scripted-api.js';

/** The provider plus what tests and the chaos runner may look at (not part of the contract). */
export interface SimCloudProvider extends CloudProvider {
  readonly balancers: SimBalancers;
  readonly api: ScriptedApi;
}

export async function createSimProvider(config: ProviderConfig): Promise<SimCloudProvider> {
  checkSimLimits();
  if (config.configFile === null) throw new CloudConfigMissingError(simProviderName, simConfigExample);
  const logger = config.logger.child({ cloudProvider: simProviderName });
  const source = await SimConfigSource.open(config.configFile, logger);
  const api = new ScriptedApi(source, config.clock);
  const balancers = new SimBalancers();
  logger.info('sim cloud provider ready', { file: config.configFile, instances: source.last.instances.size, failureRate: source.last.failureRate });

  const instances: Instances = {
    instanceExists: (node, options) => api.call('instanceExists', options, (cloud) => {
      const instance = findInstance(cloud, node);
      return instance !== null && instance.state !== 'terminated';
    }),
    instanceShutdown: (node, options) => api.call('instanceShutdown', options, (cloud) => findInstance(cloud, node)?.state === 'stopped'),
    instanceMetadata: (node, options) => api.call('instanceMetadata', options, (cloud): InstanceMetadata => {
      const instance = findInstance(cloud, node);
      if (instance === null || instance.state === 'terminated') throw new InstanceNotFoundError(simProviderName, node.metadata?.name ?? '');
      return {
        providerID: `${simProviderName}://${instance.name}`,
        instanceType: instance.instanceType,
        nodeAddresses: instance.addresses,
        zone: instance.zone,
        region: instance.region,
      };
    }),
  };

  const loadBalancer: LoadBalancer = {
    loadBalancerName: (_clusterName, service) => defaultLoadBalancerName(service),
    getLoadBalancer: (_clusterName, service, options) => api.call('getLoadBalancer', options, () => {
      const balancer = balancers.get(service);
      return balancer === null ? { exists: false, ingress: [] } : { exists: true, ingress: [{ ip: balancer.address }] };
    }),
    ensureLoadBalancer: (_clusterName, service, nodes, options) => {
      const ticket = balancers.begin(service);
      return api.call('ensureLoadBalancer', options, (cloud) => [{ ip: balancers.ensure(cloud.loadBalancerPool, service, nodes, ticket).address }]);
    },
    updateLoadBalancer: (_clusterName, service, nodes, options) => {
      const ticket = balancers.begin(service);
      return api.call('updateLoadBalancer', options, (cloud) => balancers.update(cloud.loadBalancerPool, service, nodes, ticket));
    },
    ensureLoadBalancerDeleted: (_clusterName, service, options) => {
      const ticket = balancers.begin(service);
      return api.call('ensureLoadBalancerDeleted', options, () => balancers.delete(service, ticket));
    },
  };

  return {
    name: simProviderName,
    balancers,
    api,
    instances: () => instances,
    loadBalancer: () => loadBalancer,
    routes: () => null,
    // Pending latency waits end at once (their calls fail, retryable, without acting), so no timer
    // keeps the process alive. Not final: later calls are answered as before.
    stop: async () => api.stop(),
  };
}

/** The instance behind a Node: by `sim://<id>` in spec.providerID, else by the Node's name. */
export function findInstance(cloud: SimConfig, node: Node): SimInstance | null {
  const providerID = node.spec?.providerID ?? '';
  const prefix = `${simProviderName}://`;
  const id = providerID.startsWith(prefix) ? providerID.slice(prefix.length) : (node.metadata?.name ?? '');
  return cloud.instances.get(id) ?? null;
}
