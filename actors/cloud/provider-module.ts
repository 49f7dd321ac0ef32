/**
 * Out-of-tree providers: `--cloud-provider-module <path>` (ctx.options.cloudProviderModule) names
 * an ES module that exports
 *
 *   export function registerCloudProviders(register) { register('mycloud', async (config) => provider); }
 *
 * The module is handed the registry's `register` rather than importing kubus itself, so a
 * provider built outside this repository never depends on kubus's file layout or on loading the
 * same module instance.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import { registerCloudProvider } from './registry.js';

export class CloudProviderModuleError extends KubusError {
  override readonly name = 'CloudProviderModuleError';
  readonly code = 'cloudProviderModule';
  constructor(readonly path: string, detail: string) {
    super(`--cloud-provider-module ${path}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { path: this.path };
  }
}

const loaded = new Map<string, Promise<void>>();

/** Imports the module once per process and lets it register its providers. */
export function loadProviderModule(path: string): Promise<void> {
  const absolute = resolve(path);
  let loading = loaded.get(absolute);
  if (loading === undefined) {
    loading = (async () => {
      let module: { registerCloudProviders?: unknown };
      try {
        module = (await import(pathToFileURL(absolute).href)) as { registerCloudProviders?: unknown };
      } catch (error) {
        throw new CloudProviderModuleError(path, `cannot be loaded: ${(error as Error).message}`);
      }
      if (typeof module.registerCloudProviders !== 'function') throw new CloudProviderModuleError(path, 'does not export a function registerCloudProviders(register)');
      await (module.registerCloudProviders as (register: typeof registerCloudProvider) => unknown)(registerCloudProvider);
    })();
    loaded.set(absolute, loading);
  }
  return loading;
}
