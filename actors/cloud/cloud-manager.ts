/**
 * What the cloud controller manager's host (actors/controllers/controller-manager.ts) needs from
 * this folder: the provider, created once per process from `--cloud-provider` / `--cloud-config`
 * through the registry, and the loops bound to it. An unknown name fails the start with the
 * registered names (UnknownCloudProviderError); an empty one is refused too, since the component
 * runs only when a provider is named. `cloudProviderModule` (a path) is imported first, so an
 * out-of-tree provider can be named (provider-module.ts).
 */
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ControllerSpec } from '../controllers/runtime/types.js';
import { createCloudNodeController, createCloudNodeLifecycleController, createServiceController } from './controllers/index.js';
import { checkCloudLimits } from './limits.js';
import { UnknownCloudProviderError, type CloudProvider } from './provider.js';
import { loadProviderModule } from './provider-module.js';
import { createCloudProvider, loadBuiltinProviders, registeredCloudProviders } from './registry.js';

export interface StartCloudProviderOptions {
  /** ctx.options of the component: `cloudProvider`, `cloudConfig` (camelCase flag names). */
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly clusterName: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function startCloudProvider(options: StartCloudProviderOptions): Promise<CloudProvider> {
  checkCloudLimits();
  const name = typeof options.options['cloudProvider'] === 'string' ? options.options['cloudProvider'].trim() : '';
  const configFile = typeof options.options['cloudConfig'] === 'string' && options.options['cloudConfig'] !== '' ? options.options['cloudConfig'] : null;
  const module = typeof options.options['cloudProviderModule'] === 'string' ? options.options['cloudProviderModule'].trim() : '';
  if (module !== '') await loadProviderModule(module);
  if (name === '') {
    await loadBuiltinProviders();
    throw new UnknownCloudProviderError('', registeredCloudProviders());
  }
  const provider = await createCloudProvider(name, { configFile, clusterName: options.clusterName, clock: options.clock, logger: options.logger.child({ cloudProvider: name }) });
  options.logger.info('cloud provider started', { cloudProvider: name, cloudConfig: configFile, instances: provider.instances() !== null, loadBalancer: provider.loadBalancer() !== null, routes: provider.routes() !== null });
  return provider;
}

/** The cloud controller manager's loops, bound to one provider (the same for every leadership term of the process). */
export function cloudControllerSpecs(cloud: CloudProvider, clusterName: string): readonly ControllerSpec[] {
  const deps = { cloud, clusterName };
  return [createServiceController(deps), createCloudNodeController(deps), createCloudNodeLifecycleController(deps)];
}
