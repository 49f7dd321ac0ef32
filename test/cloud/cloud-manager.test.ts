/**
 * How the cloud controller manager gets its provider: by name through the registry, with the
 * `--cloud-config` path and the cluster name handed to the factory; an unknown or empty name
 * fails the start naming the registered providers (the shipped `local` and `sim` among them);
 * and the loops it runs, bound to that provider. An out-of-tree module (`cloud-provider-module`)
 * registers its provider through the `register` it is handed; a module without that export fails
 * naming its path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { cloudControllerSpecs, CloudProviderModuleError, registerCloudProvider, startCloudProvider, UnknownCloudProviderError, type ProviderConfig } from '../../actors/cloud/index.js';
import { FakeCloud, fakeProvider } from './fake-cloud.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });
const clock = new SimulatedClock();

describe('cloud controller manager: the provider', () => {
  it('an unknown name fails, listing the registered providers', async () => {
    const error = await startCloudProvider({ options: { cloudProvider: 'nowhere' }, clusterName: 'c', clock, logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownCloudProviderError);
    expect((error as UnknownCloudProviderError).known).toEqual(expect.arrayContaining(['local', 'sim']));
    expect((error as Error).message).toMatch(/unknown cloud provider "nowhere": registered providers are .*local.*sim/);
    await expect(startCloudProvider({ options: {}, clusterName: 'c', clock, logger })).rejects.toBeInstanceOf(UnknownCloudProviderError);
  });

  it('a registered provider is created with the config file and cluster name; its loops are bound to it', async () => {
    const seen: ProviderConfig[] = [];
    registerCloudProvider('manager-test', async (config) => {
      seen.push(config);
      return { ...fakeProvider(new FakeCloud({ clock })), name: 'manager-test' };
    });
    const provider = await startCloudProvider({ options: { cloudProvider: 'manager-test', cloudConfig: '/etc/kubus/cloud.yaml' }, clusterName: 'prod', clock, logger });
    expect(provider.name).toBe('manager-test');
    expect(seen.map((c) => [c.configFile, c.clusterName])).toEqual([['/etc/kubus/cloud.yaml', 'prod']]);
    expect(cloudControllerSpecs(provider, 'prod').map((s) => s.name)).toEqual(['service', 'cloud-node', 'cloud-node-lifecycle']);
    expect(() => registerCloudProvider('manager-test', async () => provider)).toThrow(/registered twice/);
  });

  it('an out-of-tree module registers its provider; a module without registerCloudProviders fails naming its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubus-cloud-module-'));
    try {
      const plugin = join(dir, 'plugin.mjs');
      writeFileSync(plugin, [
        'export function registerCloudProviders(register) {',
        "  register('plugin-cloud', async (config) => ({ name: 'plugin-cloud', cluster: config.clusterName, instances: () => null, loadBalancer: () => null, routes: () => null, stop: async () => {} }));",
        '}',
      ].join('\n'));
      const provider = await startCloudProvider({ options: { cloudProvider: 'plugin-cloud', cloudProviderModule: plugin }, clusterName: 'c', clock, logger });
      expect(provider.name).toBe('plugin-cloud');
      const empty = join(dir, 'empty.mjs');
      writeFileSync(empty, 'export const nothing = 1;\n');
      const error = await startCloudProvider({ options: { cloudProvider: 'x', cloudProviderModule: empty }, clusterName: 'c', clock, logger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CloudProviderModuleError);
      expect((error as Error).message).toContain(empty);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
