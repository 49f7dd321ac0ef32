/**
 * The `sim` provider is the cloud its file scripts: instances exist, stop and terminate as the
 * file says (rewritten between calls, read again on the next one); failures follow the seeded
 * failure rate (same seed, same sequence) and are retryable CloudProviderErrors; latency beyond
 * the call's timeout gives up at the timeout; balancers get stable pool addresses, and a call overtaken by a later one for the same Service
 * does not act (a late ensure cannot resurrect a deleted balancer); a malformed
 * file fails start naming the field, and a malformed rewrite keeps the last good cloud.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.js';
import { Prng, SystemClock, createJsonLogger } from '../../bus/index.js';
import { CloudProviderError, InstanceNotFoundError, createCloudProvider, type LoadBalancer } from '../../actors/cloud/index.js';
import {
  CloudConfigInvalidError, CloudConfigMissingError, SimCloudFile, createSimProvider, drawCall, parseSimConfig, type SimCloudProvider,
} from '../../actors/cloud/providers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-sim-cloud-'));
const logger = createJsonLogger({ level: 'error' });
const options = { timeoutMs: 5_000 };
let fileCount = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeCloud(text: string, file = join(dir, `cloud-${++fileCount}.yaml`)): string {
  writeFileSync(file, text);
  return file;
}

function sim(file: string): Promise<SimCloudProvider> {
  return createSimProvider({ configFile: file, clusterName: 'kubus', clock: new SystemClock(), logger });
}

const node = (name: string, providerID?: string): Node => ({ metadata: { name }, ...(providerID !== undefined ? { spec: { providerID } } : {}) });
const service = (name: string): Service => ({ metadata: { namespace: 'default', name, uid: `uid-${name}` }, spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] } });

const cloud = `
seed: 7
instances:
  - name: node-a
    zone: sim-a
    region: sim-west
    instanceType: sim.large
    addresses: [127.32.0.1, {type: Hostname, address: node-a.sim}]
  - name: node-b
    state: stopped
`;

describe('sim instances', () => {
  it('answers from the file, and from the file as rewritten', async () => {
    const file = writeCloud(cloud);
    const provider = await sim(file);
    const instances = provider.instances();
    if (instances === null) throw new Error('sim has instances');
    expect(await instances.instanceExists(node('node-a'), options)).toBe(true);
    expect(await instances.instanceExists(node('node-c'), options)).toBe(false);
    expect(await instances.instanceShutdown(node('node-b'), options)).toBe(true);
    expect(await instances.instanceShutdown(node('node-a'), options)).toBe(false);
    expect(await instances.instanceMetadata(node('node-a'), options)).toEqual({
      providerID: 'sim://node-a', instanceType: 'sim.large', zone: 'sim-a', region: 'sim-west',
      nodeAddresses: [{ type: 'InternalIP', address: '127.32.0.1' }, { type: 'Hostname', address: 'node-a.sim' }],
    });
    // Found by providerID when the Node carries one.
    expect(await instances.instanceExists(node('renamed', 'sim://node-a'), options)).toBe(true);

    writeCloud(cloud.replace('    addresses:', '    state: terminated\n    addresses:'), file);
    expect(await instances.instanceExists(node('node-a'), options)).toBe(false);
    const missing = await instances.instanceMetadata(node('node-a'), options).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(InstanceNotFoundError);

    // A half-written rewrite keeps the last good cloud.
    writeCloud('instances: [ {name: ', file);
    expect(await instances.instanceExists(node('node-a'), options)).toBe(false);
    expect(await instances.instanceShutdown(node('node-b'), options)).toBe(true);
    await provider.stop();
  });

  it('is loaded by name through the registry and needs --cloud-config', async () => {
    const provider = await createCloudProvider('sim', { configFile: writeCloud(cloud), clusterName: 'kubus', clock: new SystemClock(), logger });
    expect(provider.name).toBe('sim');
    await expect(createCloudProvider('sim', { configFile: null, clusterName: 'kubus', clock: new SystemClock(), logger })).rejects.toThrow(CloudConfigMissingError);
  });
});

describe('SimCloudFile (the chaos runner\'s pen)', () => {
  it('writes a file the provider reads, and each change is seen by the next call', async () => {
    const file = new SimCloudFile(join(dir, 'scripted.json'), { seed: 2, instances: [{ name: 'n1', zone: 'z1' }, { name: 'n2' }] });
    const provider = await sim(file.path);
    const instances = provider.instances();
    if (instances === null) throw new Error('sim has instances');
    expect((await instances.instanceMetadata(node('n1'), options)).zone).toBe('z1');
    file.setInstanceState('n1', 'stopped');
    expect(await instances.instanceShutdown(node('n1'), options)).toBe(true);
    file.removeInstance('n2');
    expect(await instances.instanceExists(node('n2'), options)).toBe(false);
    file.update({ failureRate: 1 });
    await expect(instances.instanceExists(node('n1'), options)).rejects.toThrow(CloudProviderError);
    expect(() => file.setInstanceState('n9', 'running')).toThrow(/no instance n9/);
  });
});

describe('sim configuration', () => {
  it('defaults every field but the instances', () => {
    const config = parseSimConfig('f', 'instances: [{name: n1}]');
    expect(config).toMatchObject({ seed: 1, latencyMs: 0, jitterMs: 0, failureRate: 0 });
    expect(config.instances.get('n1')).toEqual({ name: 'n1', zone: 'sim-a', region: 'sim', instanceType: 'sim.standard', addresses: [], state: 'running' });
    expect(config.loadBalancerPool.description).toBe('127.99.0.0/24');
  });

  it('names the field that is wrong', () => {
    const bad = (text: string) => () => parseSimConfig('f', text);
    expect(bad('failureRate: 1.5')).toThrow(/failureRate: must be a number from 0 to 1/);
    expect(bad('instances: [{name: a, state: exploded}]')).toThrow(/instances\[0\]\.state: must be one of running, stopped, terminated/);
    expect(bad('instances: [{name: a}, {name: a}]')).toThrow(/instances\[1\]\.name: a is listed twice/);
    expect(bad('instances: [{zone: a}]')).toThrow(/instances\[0\]\.name/);
    expect(bad('instances: [{name: a, adresses: []}]')).toThrow(/instances\[0\]\.adresses: unknown field/);
    expect(bad('seed: 1.5')).toThrow(CloudConfigInvalidError);
  });

  it('refuses to start on a malformed file', async () => {
    await expect(sim(writeCloud('latencyMs: -1'))).rejects.toThrow(/latencyMs/);
    await expect(sim(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read it/);
  });
});

describe('sim API behaviour', () => {
  it('draws latency within ± jitter and failures at the configured rate, one seed one sequence', () => {
    const config = { latencyMs: 100, jitterMs: 20, failureRate: 0.5 };
    const draws = (seed: number) => { const prng = new Prng(seed); return Array.from({ length: 2_000 }, () => drawCall(prng, config)); };
    const first = draws(42);
    expect(draws(42)).toEqual(first);
    expect(draws(43)).not.toEqual(first);
    expect(first.every((draw) => draw.delayMs >= 80 && draw.delayMs <= 120)).toBe(true);
    const failures = first.filter((draw) => draw.fails).length;
    expect(failures).toBeGreaterThan(900);
    expect(failures).toBeLessThan(1_100);
  });

  it('seed 27 at 50 % draws fail, fail, succeed, fail, succeed (sim-cloud.integration.test.ts relies on it)', () => {
    const prng = new Prng(27);
    const outcomes = Array.from({ length: 5 }, () => (drawCall(prng, { latencyMs: 5, jitterMs: 5, failureRate: 0.5 }).fails ? 'F' : 'S')).join('');
    expect(outcomes).toBe('FFSFS');
  });

  it('fails about half the calls with retryable CloudProviderErrors at failureRate 0.5', async () => {
    const provider = await sim(writeCloud('seed: 3\nfailureRate: 0.5\ninstances: [{name: n}]'));
    const outcomes = await Promise.all(Array.from({ length: 200 }, () =>
      provider.instances()?.instanceExists(node('n'), options).then(() => 'ok', (error: unknown) => error)));
    const errors = outcomes.filter((outcome) => outcome !== 'ok');
    expect(errors.every((error) => error instanceof CloudProviderError && error.retryable)).toBe(true);
    expect(errors.length).toBeGreaterThan(60);
    expect(errors.length).toBeLessThan(140);
    expect(provider.api.counts).toEqual({ calls: 200, failures: errors.length });
  });

  it('gives up at the call timeout when the scripted latency is longer', async () => {
    const provider = await sim(writeCloud('latencyMs: 10000\ninstances: [{name: n}]'));
    const error = await provider.instances()?.instanceExists(node('n'), { timeoutMs: 50 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CloudProviderError);
    expect((error as Error).message).toMatch(/within 50 ms/);
    // stop() ends the pending waits at once (their calls fail without acting); later calls are answered.
    const pendingAtStop = provider.instances()?.instanceExists(node('n'), { timeoutMs: 30_000 }).catch((caught: unknown) => caught);
    await waitUntil('the call waiting out its latency', () => provider.api.inFlight > 0, { timeoutMs: 5_000 });
    await provider.stop();
    expect(((await pendingAtStop) as Error).message).toMatch(/stopped/);
    expect(provider.api.inFlight).toBe(0);
    const aborted = new AbortController();
    const pending = provider.instances()?.instanceExists(node('n'), { timeoutMs: 5_000, signal: aborted.signal }).catch((caught: unknown) => caught);
    aborted.abort();
    expect(((await pending) as Error).message).toMatch(/aborted/);
  });
});

describe('sim load balancers', () => {
  it('ensure is idempotent, addresses are stable and distinct, delete frees them', async () => {
    const file = writeCloud('loadBalancerPool: [127.99.6.1, 127.99.6.2]\n');
    const provider = await sim(file);
    const lb = provider.loadBalancer() as LoadBalancer;
    const a = await lb.ensureLoadBalancer('kubus', service('a'), [node('n2'), node('n1')], options);
    expect(await lb.ensureLoadBalancer('kubus', service('a'), [node('n1'), node('n2')], options)).toEqual(a);
    const b = await lb.ensureLoadBalancer('kubus', service('b'), [], options);
    expect(b[0]?.ip).not.toBe(a[0]?.ip);
    expect(provider.balancers.list().map((balancer) => balancer.nodes)).toEqual([['n1', 'n2'], []]);
    await expect(lb.ensureLoadBalancer('kubus', service('c'), [], options)).rejects.toThrow(/no free address/);
    await lb.updateLoadBalancer('kubus', service('b'), [node('n3')], options);
    expect(provider.balancers.get(service('b'))?.nodes).toEqual(['n3']);
    await lb.ensureLoadBalancerDeleted('kubus', service('a'), options);
    await lb.ensureLoadBalancerDeleted('kubus', service('a'), options);
    expect(await lb.getLoadBalancer('kubus', service('a'), options)).toEqual({ exists: false, ingress: [] });
    expect(await lb.ensureLoadBalancer('kubus', service('c'), [], options)).toEqual(a);
    expect(lb.loadBalancerName('kubus', service('a'))).toBe('auida');
  });

  it('an ensure that outlives its caller\'s timeout does not land after the delete that followed it', async () => {
    const file = writeCloud('latencyMs: 300\n');
    const provider = await sim(file);
    const lb = provider.loadBalancer() as LoadBalancer;
    await expect(lb.ensureLoadBalancer('kubus', service('late'), [], { timeoutMs: 20 })).rejects.toThrow(/within 20 ms/);
    writeCloud('latencyMs: 0\n', file);
    await lb.ensureLoadBalancerDeleted('kubus', service('late'), options);
    await waitUntil('the late ensure finished', () => provider.api.inFlight === 0, { timeoutMs: 5_000 });
    expect(provider.balancers.list()).toEqual([]);
  });
});
