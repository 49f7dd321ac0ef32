/**
 * The conformance suite every cloud provider passes (docs/cloud-providers.md is the contract it
 * checks). A provider's test file calls it once:
 *
 *   describeProviderConformance('local', (fixture) => createLocalProvider(...), scriptedOrNot)
 *
 * It proves, against the real provider: instance metadata of the shape the cloud-node controller
 * writes (providerID `<name>://...`, zone, region, instance type, typed addresses), the same
 * answer twice; load balancers whose ensure and delete are idempotent, whose delete of nothing
 * resolves, whose name is stable, whose ingress survives a provider restart (a provider holds no
 * state the controllers cannot rebuild: the restarted one is given the Service with its status)
 * and a `stop()` (called at every end of a leadership term; the same object serves again after);
 * optional routes that are idempotent. With a `scripted` hook (providers whose cloud can be
 * scripted, like `sim`) it also proves typed errors (every call fails with a retryable
 * CloudProviderError; a terminated instance is InstanceNotFoundError for metadata and "does not
 * exist"; a stopped one is "shut down") and that `timeoutMs` and the AbortSignal are honoured.
 *
 * Time bounds here are not performance claims: a call asked to give up after 200 ms must not
 * still be running seconds later, when the scripted latency is 5 s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { SystemClock, type Clock, type Logger } from '../../bus/index.js';
import { CloudProviderError, InstanceNotFoundError, type CloudProvider, type LoadBalancer } from '../../actors/cloud/index.js';

export interface ConformanceFixture {
  readonly clusterName: string;
  /** Nodes whose instances exist and run: the provider must know them (sim: write them into its file). */
  readonly nodes: readonly Node[];
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Creates the provider under test; called again after `stop()` to prove a restart loses nothing. */
export type MakeProvider = (fixture: ConformanceFixture) => Promise<CloudProvider>;

/** Faults of a scriptable cloud (`sim`); each resolves once the provider applies it. */
export interface ProviderScript {
  /** Fraction of later calls that fail (the suite uses 0 and 1). */
  setFailureRate(rate: number): Promise<void>;
  /** How long every later call takes (0: back to normal). */
  setLatencyMs(latencyMs: number): Promise<void>;
  setInstanceState(nodeName: string, state: 'running' | 'stopped' | 'terminated'): Promise<void>;
}

const addressTypes = ['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS'];
const callTimeoutMs = 10_000;
const testTimeoutMs = 30_000;

export function conformanceNode(name: string, internalIp: string): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, uid: randomUUID(), labels: { 'kubernetes.io/hostname': name } }, spec: {},
    status: { addresses: [{ type: 'InternalIP', address: internalIp }, { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** A LoadBalancer Service on a random high port (parallel test files must not collide on a pool address and port). */
export function conformanceService(name: string): Service {
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'conformance', uid: randomUUID() },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080, nodePort: 30_000 + (port % 2_000) }] },
  };
}

const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

export function describeProviderConformance(name: string, makeProvider: MakeProvider, scripted?: (provider: CloudProvider) => ProviderScript): void {
  describe(`cloud provider conformance: ${name}`, () => {
    const fixture: ConformanceFixture = {
      clusterName: `conformance-${randomUUID().slice(0, 8)}`,
      nodes: [conformanceNode('conformance-a', '127.32.0.201'), conformanceNode('conformance-b', '127.32.0.202')],
      clock: new SystemClock(),
      logger: silentLogger,
    };
    const options = { timeoutMs: callTimeoutMs };
    let provider: CloudProvider;
    const ensured: Service[] = [];
    const lb = (): LoadBalancer | null => provider.loadBalancer();

    beforeAll(async () => {
      provider = await makeProvider(fixture);
    }, testTimeoutMs);

    afterAll(async () => {
      const balancer = provider?.loadBalancer();
      for (const service of ensured) await balancer?.ensureLoadBalancerDeleted(fixture.clusterName, service, options).catch(() => undefined);
      await provider?.stop();
      await provider?.stop(); // stop is idempotent
    }, testTimeoutMs);

    it('is named as registered', () => {
      expect(provider.name).toBe(name);
    });

    it('instance metadata has the shape the cloud-node controller writes, and the same answer twice', async () => {
      const instances = provider.instances();
      if (instances === null) return; // a cloud without an instance API: the node controllers do nothing
      for (const node of fixture.nodes) {
        const first = await instances.instanceMetadata(node, options);
        expect(first.providerID.startsWith(`${name}://`), `providerID ${first.providerID} starts with ${name}://`).toBe(true);
        expect(first.providerID.length).toBeGreaterThan(`${name}://`.length);
        for (const field of [first.zone, first.region, first.instanceType]) expect(typeof field).toBe('string');
        for (const address of first.nodeAddresses) {
          expect(addressTypes).toContain(address.type);
          expect(address.address).not.toBe('');
        }
        for (const [key, value] of Object.entries(first.additionalLabels ?? {})) expect(typeof key === 'string' && typeof value === 'string').toBe(true);
        expect(await instances.instanceMetadata(node, options)).toEqual(first);
        // The controllers then ask about the Node carrying that providerID.
        const initialised: Node = { ...node, spec: { ...node.spec, providerID: first.providerID } };
        expect(await instances.instanceMetadata(initialised, options)).toEqual(first);
        expect(await instances.instanceExists(initialised, options)).toBe(true);
        expect(await instances.instanceShutdown(initialised, options)).toBe(false);
      }
    }, testTimeoutMs);

    it('a running instance exists and is not shut down', async () => {
      const instances = provider.instances();
      if (instances === null) return;
      for (const node of fixture.nodes) {
        expect(await instances.instanceExists(node, options)).toBe(true);
        expect(await instances.instanceShutdown(node, options)).toBe(false);
      }
    }, testTimeoutMs);

    it('a balancer\'s name is stable, and differs between Services', () => {
      const balancer = lb();
      if (balancer === null) return; // a cloud without balancers: LoadBalancer Services stay pending
      const one = conformanceService('name-one');
      const other = conformanceService('name-two');
      const first = balancer.loadBalancerName(fixture.clusterName, one);
      expect(first).not.toBe('');
      expect(balancer.loadBalancerName(fixture.clusterName, structuredClone(one))).toBe(first);
      expect(balancer.loadBalancerName(fixture.clusterName, other)).not.toBe(first);
    });

    it('getting or deleting a balancer that was never made: none, and delete resolves (twice)', async () => {
      const balancer = lb();
      if (balancer === null) return;
      const never = conformanceService('never-made');
      const state = await balancer.getLoadBalancer(fixture.clusterName, never, options);
      expect(state.exists).toBe(false);
      expect(state.ingress).toEqual([]);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, never, options);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, never, options);
    }, testTimeoutMs);

    it('ensure is idempotent, update keeps the ingress, delete releases (idempotent), ensure again works', async () => {
      const balancer = lb();
      if (balancer === null) return;
      const service = conformanceService('idempotent');
      ensured.push(service);
      const ingress = await balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options);
      expect(ingress.length).toBeGreaterThan(0);
      for (const entry of ingress) expect((entry.ip ?? '') !== '' || (entry.hostname ?? '') !== '').toBe(true);
      expect(await balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options)).toEqual(ingress);
      expect(await balancer.getLoadBalancer(fixture.clusterName, service, options)).toEqual({ exists: true, ingress });
      await balancer.updateLoadBalancer(fixture.clusterName, service, fixture.nodes.slice(0, 1), options);
      await balancer.updateLoadBalancer(fixture.clusterName, service, fixture.nodes.slice(0, 1), options);
      expect((await balancer.getLoadBalancer(fixture.clusterName, service, options)).ingress).toEqual(ingress);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, service, options);
      expect((await balancer.getLoadBalancer(fixture.clusterName, service, options)).exists).toBe(false);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, service, options);
      const again = await balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options);
      expect(again.length).toBeGreaterThan(0);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, service, options);
    }, testTimeoutMs);

    it('two Services get two balancers, each released on its own', async () => {
      const balancer = lb();
      if (balancer === null) return;
      const [one, two] = [conformanceService('pair-one'), conformanceService('pair-two')];
      ensured.push(one, two);
      await balancer.ensureLoadBalancer(fixture.clusterName, one, fixture.nodes, options);
      const ingressTwo = await balancer.ensureLoadBalancer(fixture.clusterName, two, fixture.nodes, options);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, one, options);
      expect((await balancer.getLoadBalancer(fixture.clusterName, one, options)).exists).toBe(false);
      expect(await balancer.getLoadBalancer(fixture.clusterName, two, options)).toEqual({ exists: true, ingress: ingressTwo });
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, two, options);
    }, testTimeoutMs);

    it('a restarted provider, given the Service with its status, ensures the same ingress', async () => {
      if (lb() === null) return;
      const service = conformanceService('restart');
      ensured.push(service);
      const ingress = await (lb() as LoadBalancer).ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options);
      await provider.stop();
      provider = await makeProvider(fixture);
      const stored: Service = { ...service, status: { loadBalancer: { ingress: ingress.map((i) => ({ ...i })) } } };
      expect(await (lb() as LoadBalancer).ensureLoadBalancer(fixture.clusterName, stored, fixture.nodes, options)).toEqual(ingress);
      await (lb() as LoadBalancer).ensureLoadBalancerDeleted(fixture.clusterName, stored, options);
    }, testTimeoutMs);

    it('stop() is not final: the same provider serves again after it, with the same ingress', async () => {
      if (lb() === null) return;
      const service = conformanceService('after-stop');
      ensured.push(service);
      const ingress = await (lb() as LoadBalancer).ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options);
      await provider.stop();
      const stored: Service = { ...service, status: { loadBalancer: { ingress: ingress.map((i) => ({ ...i })) } } };
      expect(await (lb() as LoadBalancer).ensureLoadBalancer(fixture.clusterName, stored, fixture.nodes, options)).toEqual(ingress);
      await (lb() as LoadBalancer).ensureLoadBalancerDeleted(fixture.clusterName, stored, options);
    }, testTimeoutMs);

    it('routes, when offered, are idempotent', async () => {
      const routes = provider.routes();
      if (routes === null) return; // optional: kubus's NATS tunnel makes them unnecessary
      const route = { name: `conformance-${randomUUID().slice(0, 8)}`, targetNode: 'conformance-a', destinationCIDR: '127.64.200.0/24' };
      await routes.createRoute(fixture.clusterName, route, options);
      await routes.createRoute(fixture.clusterName, route, options);
      expect((await routes.listRoutes(fixture.clusterName, options)).filter((r) => r.destinationCIDR === route.destinationCIDR)).toHaveLength(1);
      await routes.deleteRoute(fixture.clusterName, route, options);
      await routes.deleteRoute(fixture.clusterName, route, options);
      expect((await routes.listRoutes(fixture.clusterName, options)).filter((r) => r.destinationCIDR === route.destinationCIDR)).toHaveLength(0);
    }, testTimeoutMs);

    if (scripted !== undefined) describeScripted({ fixture, provider: () => provider, scripted, options });
  });
}

interface ScriptedArgs {
  readonly fixture: ConformanceFixture;
  readonly provider: () => CloudProvider;
  readonly scripted: (provider: CloudProvider) => ProviderScript;
  readonly options: { readonly timeoutMs: number };
}

async function expectRetryableFailure(call: Promise<unknown>): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error, 'the call failed').toBeInstanceOf(CloudProviderError);
  expect((error as CloudProviderError).retryable).toBe(true);
}

function describeScripted(args: ScriptedArgs): void {
  const { fixture, options } = args;
  const script = (): ProviderScript => args.scripted(args.provider());

  it('a failing cloud: every call rejects with a retryable CloudProviderError, and works again after', async () => {
    const provider = args.provider();
    const service = conformanceService('failing');
    const node = fixture.nodes[0] as Node;
    await script().setFailureRate(1);
    try {
      const instances = provider.instances();
      if (instances !== null) {
        await expectRetryableFailure(instances.instanceMetadata(node, options));
        await expectRetryableFailure(instances.instanceExists(node, options));
        await expectRetryableFailure(instances.instanceShutdown(node, options));
      }
      const balancer = provider.loadBalancer();
      if (balancer !== null) {
        await expectRetryableFailure(balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options));
        await expectRetryableFailure(balancer.getLoadBalancer(fixture.clusterName, service, options));
        await expectRetryableFailure(balancer.ensureLoadBalancerDeleted(fixture.clusterName, service, options));
      }
    } finally {
      await script().setFailureRate(0);
    }
    const balancer = provider.loadBalancer();
    if (balancer !== null) {
      expect((await balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, options)).length).toBeGreaterThan(0);
      await balancer.ensureLoadBalancerDeleted(fixture.clusterName, service, options);
      expect((await balancer.getLoadBalancer(fixture.clusterName, service, options)).exists).toBe(false);
    }
  }, testTimeoutMs);

  it('a terminated instance does not exist (metadata: InstanceNotFoundError); a stopped one is shut down', async () => {
    const instances = args.provider().instances();
    if (instances === null) return;
    const node = fixture.nodes[1] as Node;
    try {
      await script().setInstanceState(node.metadata?.name ?? '', 'stopped');
      expect(await instances.instanceShutdown(node, options)).toBe(true);
      expect(await instances.instanceExists(node, options)).toBe(true);
      await script().setInstanceState(node.metadata?.name ?? '', 'terminated');
      expect(await instances.instanceExists(node, options)).toBe(false);
      const error = await instances.instanceMetadata(node, options).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(InstanceNotFoundError);
      // Gone is not shut down: false, or InstanceNotFoundError (the lifecycle controller reads both as false).
      const shutdown = await instances.instanceShutdown(node, options).catch((e: unknown) => e);
      expect(shutdown === false || shutdown instanceof InstanceNotFoundError).toBe(true);
    } finally {
      await script().setInstanceState(node.metadata?.name ?? '', 'running');
    }
    expect(await instances.instanceExists(node, options)).toBe(true);
  }, testTimeoutMs);

  it('timeoutMs and the AbortSignal are honoured: a slow cloud\'s call gives up with a retryable CloudProviderError', async () => {
    const provider = args.provider();
    const node = fixture.nodes[0] as Node;
    const service = conformanceService('slow');
    await script().setLatencyMs(5_000);
    try {
      const started = Date.now();
      const instances = provider.instances();
      if (instances !== null) await expectRetryableFailure(instances.instanceMetadata(node, { timeoutMs: 200 }));
      const balancer = provider.loadBalancer();
      if (balancer !== null) {
        await expectRetryableFailure(balancer.ensureLoadBalancer(fixture.clusterName, service, fixture.nodes, { timeoutMs: 200 }));
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 100);
        await expectRetryableFailure(balancer.getLoadBalancer(fixture.clusterName, service, { timeoutMs: 30_000, signal: abort.signal }));
      }
      expect(Date.now() - started, 'the calls gave up long before the 5 s latency').toBeLessThan(4_000);
    } finally {
      await script().setLatencyMs(0);
    }
    await provider.loadBalancer()?.ensureLoadBalancerDeleted(fixture.clusterName, service, options);
  }, testTimeoutMs);
}
