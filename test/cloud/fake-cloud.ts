/**
 * An in-memory cloud and a provider over it, for the controller tests and to prove the
 * conformance suite itself (conformance-fake.test.ts). The cloud (instances, balancers, fault
 * script) outlives provider instances, as a real cloud outlives a restarted controller manager;
 * the provider holds nothing. Latency runs on the injected clock (a SimulatedClock in the
 * controller tests), failures come from a seeded generator, and every call honours its
 * `timeoutMs` and AbortSignal as the contract demands.
 */
import type { LoadBalancerIngress, Node, NodeAddress, Service } from 'kubernetes-types/core/v1.js';
import { Prng, type Clock } from '../../bus/index.js';
import {
  CloudProviderError, InstanceNotFoundError, type CallOptions, type CloudProvider, type InstanceMetadata, type LoadBalancer, type LoadBalancerState,
} from '../../actors/cloud/index.js';
import type { ProviderScript } from './conformance.js';

export interface FakeInstance {
  state: 'running' | 'stopped' | 'terminated';
  zone: string;
  region: string;
  instanceType: string;
  addresses: NodeAddress[];
}

interface FakeBalancer {
  readonly name: string;
  readonly ingress: LoadBalancerIngress[];
  nodes: string[];
}

export class FakeCloud {
  readonly instances = new Map<string, FakeInstance>();
  readonly balancers = new Map<string, FakeBalancer>();
  /** Every call, as `operation target`. */
  readonly calls: string[] = [];
  failureRate = 0;
  latencyMs = 0;
  /** How often a provider over this cloud was stopped. */
  stops = 0;
  /** Calls never answer (until their timeout or abort). */
  hang = false;
  private readonly prng: Prng;
  private nextAddress = 1;

  constructor(options: { readonly seed?: number; readonly clock: Clock }) {
    this.prng = new Prng(options.seed ?? 1);
    this.clock = options.clock;
  }

  readonly clock: Clock;

  addInstance(name: string, instance: Partial<FakeInstance> = {}): void {
    this.instances.set(name, { state: 'running', zone: 'zone-a', region: 'region-1', instanceType: 'fake.small', addresses: [], ...instance });
  }

  /** Waits out the scripted latency, then fails at the scripted rate; honours the call's timeout and signal. */
  async call(operation: string, target: string, options: CallOptions): Promise<void> {
    this.calls.push(`${operation} ${target}`);
    const fail = (message: string): CloudProviderError => new CloudProviderError('fake', operation, message);
    if (options.signal?.aborted === true) throw fail('aborted');
    if (this.hang || this.latencyMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const waitMs = this.hang ? options.timeoutMs : Math.min(this.latencyMs, options.timeoutMs);
        const timedOut = this.hang || this.latencyMs > options.timeoutMs;
        const timer = this.clock.setTimeout(() => (timedOut ? reject(fail(`no answer within ${options.timeoutMs} ms`)) : resolve()), waitMs);
        options.signal?.addEventListener('abort', () => {
          this.clock.clearTimeout(timer);
          reject(fail('aborted'));
        }, { once: true });
      });
    }
    if (this.failureRate > 0 && this.prng.chance(this.failureRate)) throw fail('scripted failure');
  }

  allocateAddress(): string {
    const used = new Set([...this.balancers.values()].flatMap((b) => b.ingress.map((i) => i.ip)));
    for (;;) {
      const ip = `127.98.0.${this.nextAddress}`;
      this.nextAddress = (this.nextAddress % 250) + 1;
      if (!used.has(ip)) return ip;
    }
  }

  script(): ProviderScript {
    return {
      setFailureRate: async (rate) => void (this.failureRate = rate),
      setLatencyMs: async (ms) => void (this.latencyMs = ms),
      setInstanceState: async (node, state) => {
        const instance = this.instances.get(node);
        if (instance !== undefined) instance.state = state;
      },
    };
  }
}

function instanceName(node: Node): string {
  const providerID = node.spec?.providerID ?? '';
  return providerID.startsWith('fake://') ? providerID.slice('fake://'.length) : node.metadata?.name ?? '';
}

function balancerName(service: Service): string {
  return `a${(service.metadata?.uid ?? '').replace(/-/g, '')}`.slice(0, 32);
}

export function fakeProvider(cloud: FakeCloud): CloudProvider {
  const found = (node: Node): FakeInstance | undefined => {
    const instance = cloud.instances.get(instanceName(node));
    return instance === undefined || instance.state === 'terminated' ? undefined : instance;
  };
  const loadBalancer: LoadBalancer = {
    loadBalancerName: (_cluster, service) => balancerName(service),
    async getLoadBalancer(_cluster, service, options): Promise<LoadBalancerState> {
      await cloud.call('getLoadBalancer', balancerName(service), options);
      const balancer = cloud.balancers.get(balancerName(service));
      return balancer === undefined ? { exists: false, ingress: [] } : { exists: true, ingress: balancer.ingress.map((i) => ({ ...i })) };
    },
    async ensureLoadBalancer(_cluster, service, nodes, options) {
      await cloud.call('ensureLoadBalancer', balancerName(service), options);
      const name = balancerName(service);
      const existing = cloud.balancers.get(name);
      const names = nodes.map((n) => n.metadata?.name ?? '');
      if (existing !== undefined) {
        existing.nodes = names;
        return existing.ingress.map((i) => ({ ...i }));
      }
      // Stateless provider: an address the Service already shows is kept (a restart changes nothing).
      const ip = service.status?.loadBalancer?.ingress?.[0]?.ip ?? cloud.allocateAddress();
      cloud.balancers.set(name, { name, ingress: [{ ip }], nodes: names });
      return [{ ip }];
    },
    async updateLoadBalancer(_cluster, service, nodes, options) {
      await cloud.call('updateLoadBalancer', balancerName(service), options);
      const balancer = cloud.balancers.get(balancerName(service));
      if (balancer === undefined) throw new CloudProviderError('fake', 'updateLoadBalancer', `no balancer ${balancerName(service)}`);
      balancer.nodes = nodes.map((n) => n.metadata?.name ?? '');
    },
    async ensureLoadBalancerDeleted(_cluster, service, options) {
      await cloud.call('ensureLoadBalancerDeleted', balancerName(service), options);
      cloud.balancers.delete(balancerName(service));
    },
  };
  return {
    name: 'fake',
    instances: () => ({
      async instanceExists(node, options) {
        await cloud.call('instanceExists', instanceName(node), options);
        return found(node) !== undefined;
      },
      async instanceShutdown(node, options) {
        await cloud.call('instanceShutdown', instanceName(node), options);
        return found(node)?.state === 'stopped';
      },
      async instanceMetadata(node, options): Promise<InstanceMetadata> {
        await cloud.call('instanceMetadata', instanceName(node), options);
        const instance = found(node);
        if (instance === undefined) throw new InstanceNotFoundError('fake', node.metadata?.name ?? '');
        return {
          providerID: `fake://${instanceName(node)}`, instanceType: instance.instanceType, zone: instance.zone, region: instance.region,
          nodeAddresses: instance.addresses.map((a) => ({ ...a })),
        };
      },
    }),
    loadBalancer: () => loadBalancer,
    routes: () => null,
    async stop() {
      // Nothing held in this process: the balancers stay in the (fake) cloud, as the contract says.
      cloud.stops++;
    },
  };
}
