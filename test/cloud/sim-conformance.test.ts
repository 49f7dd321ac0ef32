/**
 * The `sim` provider passes the cloud provider conformance suite (conformance.ts), scripted the
 * way a chaos runner scripts it: every fault (failure rate, latency, an instance's state) is a
 * rewrite of its `--cloud-config` file, which the provider reads again on its next call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import { afterAll } from 'vitest';
import { createSimProvider, type InstanceState } from '../../actors/cloud/providers/index.js';
import { describeProviderConformance, type ProviderScript } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-sim-conformance-'));
const configFile = join(dir, 'cloud.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the file says; every change rewrites it whole. */
const cloud = { failureRate: 0, latencyMs: 0, states: new Map<string, InstanceState>(), nodes: [] as Node[] };

function writeCloud(): void {
  writeFileSync(configFile, JSON.stringify({
    seed: 5, failureRate: cloud.failureRate, latencyMs: cloud.latencyMs, loadBalancerPool: '127.99.6.32/28',
    instances: cloud.nodes.map((node) => ({
      name: node.metadata?.name, zone: 'sim-a', region: 'sim', instanceType: 'sim.small',
      addresses: node.status?.addresses ?? [], state: cloud.states.get(node.metadata?.name ?? '') ?? 'running',
    })),
  }));
}

const script: ProviderScript = {
  setFailureRate: async (rate) => { cloud.failureRate = rate; writeCloud(); },
  setLatencyMs: async (latencyMs) => { cloud.latencyMs = latencyMs; writeCloud(); },
  setInstanceState: async (name, state) => { cloud.states.set(name, state); writeCloud(); },
};

describeProviderConformance('sim', (fixture) => {
  cloud.nodes = [...fixture.nodes];
  writeCloud();
  return createSimProvider({ configFile, clusterName: fixture.clusterName, clock: fixture.clock, logger: fixture.logger });
}, () => script);
