/**
 * The scripted cloud's load balancers: an address from the file's pool and the nodes behind it,
 * in memory (sim balancers carry no traffic). Every operation is synchronous, so the calls that
 * ScriptedApi completes one at a time never interleave. A balancer whose address left the pool
 * (the file changed) gets a new one on its next ensure.
 */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { CloudProviderError } from '../../provider.js';
import { chooseAddress, type AddressPool } from '../shared/address-pool.js';
import { preferredAddresses, serviceKey } from '../shared/service-address.js';
import { simProviderName } from './config.js';

export interface SimBalancer {
  readonly service: string;
  readonly address: string;
  /** Names of the nodes behind it, sorted. */
  readonly nodes: readonly string[];
}

export class SimBalancers {
  private readonly balancers = new Map<string, SimBalancer>();
  /** address → Service key. */
  private readonly held = new Map<string, string>();

  get(service: Service): SimBalancer | null {
    return this.balancers.get(serviceKey(service)) ?? null;
  }

  /** Every balancer, for tests and for the chaos runner's reports. */
  list(): SimBalancer[] {
    return [...this.balancers.values()].sort((a, b) => a.service.localeCompare(b.service));
  }

  ensure(pool: AddressPool, service: Service, nodes: readonly Node[]): SimBalancer {
    const key = serviceKey(service);
    const existing = this.balancers.get(key);
    let address = existing?.address ?? null;
    if (address === null || !pool.contains(address)) {
      if (existing !== undefined) this.release(existing);
      address = chooseAddress(pool, { key, preferred: preferredAddresses(service), held: this.held });
    }
    if (address === null) {
      throw new CloudProviderError(simProviderName, 'ensureLoadBalancer', `no free address for ${key}: every address of the pool ${pool.description} is held`);
    }
    const balancer: SimBalancer = { service: key, address, nodes: nodeNames(nodes) };
    this.balancers.set(key, balancer);
    this.held.set(address, key);
    return balancer;
  }

  /** The node set changed; a balancer that does not exist is created (as ensure would). */
  update(pool: AddressPool, service: Service, nodes: readonly Node[]): void {
    this.ensure(pool, service, nodes);
  }

  delete(service: Service): void {
    const existing = this.balancers.get(serviceKey(service));
    if (existing !== undefined) this.release(existing);
  }

  private release(balancer: SimBalancer): void {
    this.balancers.delete(balancer.service);
    if (this.held.get(balancer.address) === balancer.service) this.held.delete(balancer.address);
  }
}

function nodeNames(nodes: readonly Node[]): string[] {
  return nodes.map((node) => node.metadata?.name ?? '').filter((name) => name !== '').sort();
}
