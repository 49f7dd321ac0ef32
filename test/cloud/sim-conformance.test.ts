/**
 * The `sim` provider passes the cloud provider conformance suite (conformance.ts), scripted the
 * way a chaos runner scripts it: every fault (failure rate, latency, an instance's state) is a
 * rewrite of its `--cloud-config` file (SimCloudFile), which the provider reads on its next call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SimCloudFile, createSimProvider } from '../../actors/cloud/providers/index.js';
import { describeProviderConformance, type ProviderScript } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-sim-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let cloud: SimCloudFile | null = null;

const script = (file: SimCloudFile): ProviderScript => ({
  setFailureRate: async (failureRate) => file.update({ failureRate }),
  setLatencyMs: async (latencyMs) => file.update({ latencyMs }),
  setInstanceState: async (name, state) => file.setInstanceState(name, state),
});

describeProviderConformance('sim', (fixture) => {
  cloud ??= new SimCloudFile(join(dir, 'cloud.json'), {
    seed: 5, loadBalancerPool: '127.99.6.32/28',
    instances: fixture.nodes.map((node) => ({ name: node.metadata?.name ?? '', zone: 'sim-a', region: 'sim', instanceType: 'sim.small', addresses: node.status?.addresses ?? [] })),
  });
  return createSimProvider({ configFile: cloud.path, clusterName: fixture.clusterName, clock: fixture.clock, logger: fixture.logger });
}, () => script(cloud as SimCloudFile));
