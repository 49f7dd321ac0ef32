/**
 * The `local` provider's load balancers: per Service an address from the pool and one forwarder
 * per Service port (TCP or UDP) on `<address>:<port>`. `ensure` converges the listeners to the
 * Service (opens missing ones, closes those no longer wanted, points the rest at the new nodes),
 * so calling it again with the same input changes nothing.
 */
import type { Node, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Clock, Logger } from '../../../../bus/index.js';
import { CloudProviderError } from '../../provider.js';
import { chooseAddress, type AddressPool } from '../shared/address-pool.js';
import { KeyedSerializer } from '../shared/keyed-serializer.js';
import { preferredAddresses, serviceKey } from '../shared/service-address.js';
import { localProviderName } from './config.js';
import { localLimits } from './limits.js';
import { targetsFor } from './targets.js';
import { TcpForwarder } from './tcp-forwarder.js';
import { UdpForwarder } from './udp-forwarder.js';

type Forwarder = TcpForwarder | UdpForwarder;

interface Balancer {
  address: string;
  /** By `<protocol>/<port>`. */
  readonly forwarders: Map<string, Forwarder>;
}

export interface PortPlan {
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
  readonly nodePort: number;
}

/** The listeners a Service needs: a pure reading of spec.ports, with the error a user can act on. */
export function planPorts(service: Service): PortPlan[] {
  const ports: readonly ServicePort[] = service.spec?.ports ?? [];
  if (ports.length > localLimits.portsPerServiceMax) {
    throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `${serviceKey(service)} has ${ports.length} ports; a local balancer serves at most ${localLimits.portsPerServiceMax}`, false);
  }
  return ports.map((port) => {
    const protocol = port.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `${serviceKey(service)} port ${port.port}: protocol ${protocol} is not supported (TCP and UDP are)`, false);
    }
    if (port.nodePort === undefined || port.nodePort === 0) {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `${serviceKey(service)} port ${port.port} has no nodePort yet`);
    }
    return { protocol, port: port.port, nodePort: port.nodePort };
  });
}

export class LocalBalancers {
  private readonly balancers = new Map<string, Balancer>();
  /** address → Service key holding it. */
  private readonly held = new Map<string, string>();
  private readonly serial = new KeyedSerializer();

  constructor(private readonly pool: AddressPool, private readonly clock: Clock, private readonly logger: Logger) {}

  address(service: Service): string | null {
    return this.balancers.get(serviceKey(service))?.address ?? null;
  }

  ensure(service: Service, nodes: readonly Node[]): Promise<string> {
    const key = serviceKey(service);
    return this.serial.run(key, async () => {
      const plan = planPorts(service);
      const balancer = await this.balancerFor(key, service);
      const wanted = new Map(plan.map((port) => [`${port.protocol}/${port.port}`, port]));
      for (const [name, forwarder] of [...balancer.forwarders]) {
        if (wanted.has(name)) continue;
        balancer.forwarders.delete(name);
        await forwarder.close();
      }
      for (const [name, port] of wanted) {
        const targets = targetsFor(nodes, port.nodePort);
        const existing = balancer.forwarders.get(name);
        if (existing !== undefined) {
          existing.setTargets(targets);
          continue;
        }
        balancer.forwarders.set(name, await this.open(balancer.address, port, targets));
      }
      return balancer.address;
    });
  }

  delete(service: Service): Promise<void> {
    const key = serviceKey(service);
    return this.serial.run(key, async () => {
      const balancer = this.balancers.get(key);
      if (balancer === undefined) return;
      await this.closeBalancer(key, balancer);
      this.logger.info('load balancer deleted', { service: key, address: balancer.address });
    });
  }

  async stop(): Promise<void> {
    await this.serial.idle();
    for (const [key, balancer] of [...this.balancers]) await this.closeBalancer(key, balancer);
  }

  /** The Service's balancer, created with an address on first use; moved when it asks for another free one. */
  private async balancerFor(key: string, service: Service): Promise<Balancer> {
    const existing = this.balancers.get(key);
    const asked = this.askedAddress(key, service);
    if (existing !== undefined && (asked === null || asked === existing.address)) return existing;
    const address = chooseAddress(this.pool, { key, preferred: preferredAddresses(service), held: this.held });
    if (address === null) {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `no free address for ${key}: every address of the pool ${this.pool.description} is held`);
    }
    if (existing !== undefined) await this.closeBalancer(key, existing);
    const balancer: Balancer = { address, forwarders: new Map() };
    this.balancers.set(key, balancer);
    this.held.set(address, key);
    this.logger.info('load balancer address assigned', { service: key, address });
    return balancer;
  }

  /** `spec.loadBalancerIP` when set: refused (not retried) outside the pool, retried while another Service holds it. */
  private askedAddress(key: string, service: Service): string | null {
    const asked = service.spec?.loadBalancerIP;
    if (asked === undefined || asked === '') return null;
    if (!this.pool.contains(asked)) {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `${key}: spec.loadBalancerIP ${asked} is not in the pool ${this.pool.description}`, false);
    }
    const holder = this.held.get(asked);
    if (holder !== undefined && holder !== key) {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `${key}: spec.loadBalancerIP ${asked} is held by ${holder}`);
    }
    return asked;
  }

  private async open(address: string, port: PortPlan, targets: ReturnType<typeof targetsFor>): Promise<Forwarder> {
    try {
      return port.protocol === 'TCP'
        ? await TcpForwarder.open(address, port.port, targets)
        : await UdpForwarder.open(address, port.port, targets, this.clock);
    } catch (error) {
      throw new CloudProviderError(localProviderName, 'ensureLoadBalancer', `cannot listen on ${address}:${port.port}/${port.protocol}: ${listenProblem(error, port.port)}`);
    }
  }

  private async closeBalancer(key: string, balancer: Balancer): Promise<void> {
    this.balancers.delete(key);
    if (this.held.get(balancer.address) === key) this.held.delete(balancer.address);
    const forwarders = [...balancer.forwarders.values()];
    balancer.forwarders.clear();
    await Promise.all(forwarders.map((forwarder) => forwarder.close()));
  }
}

/** What a listen error means for the operator (retried either way: the cause can go away). */
function listenProblem(error: unknown, port: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return 'EADDRINUSE: another process holds it (a previous leader of the cloud controller manager that has not stopped its provider, or another program)';
    case 'EACCES':
      return port < 1024
        ? 'EACCES: ports below 1024 need root, CAP_NET_BIND_SERVICE, or sysctl net.ipv4.ip_unprivileged_port_start'
        : 'EACCES: not permitted';
    case 'EADDRNOTAVAIL':
      return 'EADDRNOTAVAIL: the address is not on this host (the pool must be loopback, or addresses of this machine)';
    default:
      return code ?? (error as Error).message;
  }
}
