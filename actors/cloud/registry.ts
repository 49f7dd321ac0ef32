/**
 * Cloud providers by name (`--cloud-provider <name>`), like Kubernetes' cloudprovider.RegisterCloudProvider.
 * The shipped providers register themselves in providers/index.ts; an out-of-tree provider is a
 * module exporting `registerCloudProviders(register)`, loaded with `--cloud-provider-module <path>`
 * (provider-module.ts).
 */
import { UnknownCloudProviderError, type CloudProvider, type ProviderConfig, type ProviderFactory } from './provider.js';

const factories = new Map<string, ProviderFactory>();

export function registerCloudProvider(name: string, factory: ProviderFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new RangeError(`cloud provider name "${name}" must be lower-case letters, digits and dashes`);
  if (factories.has(name)) throw new RangeError(`cloud provider "${name}" is registered twice`);
  factories.set(name, factory);
}

let builtins: Promise<unknown> | null = null;

/** Registers the shipped providers once (providers/index.ts registers them on import). */
export function loadBuiltinProviders(): Promise<unknown> {
  builtins ??= import('./providers/index.js');
  return builtins;
}

export function registeredCloudProviders(): string[] {
  return [...factories.keys()].sort();
}

export async function createCloudProvider(name: string, config: ProviderConfig): Promise<CloudProvider> {
  await loadBuiltinProviders();
  const factory = factories.get(name);
  if (factory === undefined) throw new UnknownCloudProviderError(name, registeredCloudProviders());
  return factory(config);
}
