/**
 * The scripted cloud's load balancers: an address from the file's pool and the nodes behind it,
 * in memory (sim balancers carry no traffic). Every operation is synchronous, so the calls that
 * ScriptedApi completes one at a time never interleave. A balancer whose address left the pool
 * (the file changed) gets a new one on its next ensure.
 *
 * Calls are linearised by the order they start: each mutating call takes a ticket when it starts
 * (before the scripted latency); when its turn comes, a call that a later one has overtaken for
 * the same Service fails (retryable) instead of acting. Without that, an ensure that outlived its
 * caller's timeout would land after the delete the controller issued next and leave an orphan
 * balancer holding an address.
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
  /** Service key → the ticket of the last mutating call started for it. */
  private readonly latest = new Map<string, number>();
  private nextTicket = 1;

  /** Taken when a mutating call starts; `ensure`, `update` and `delete` refuse an overtaken one. */
  begin(service: Service): number {
    const ticket = this.nextTicket++;
    this.latest.set(serviceKey(service), ticket);
    return ticket;
  }

  private checkTurn(operation: string, service: Service, ticket: number): void {
    const key = serviceKey(service);
    if (this.latest.get(key) !== ticket) {
      throw new CloudProviderError(simProviderName, operation, `${key}: overtaken by a later call for the same Service`);
    }
  }

  get(service: Service): SimBalancer | null {
    return this.balancers.get(serviceKey(service)) ?? null;
  }

  /** Every balancer, for tests and for the chaos runner's reports. */
  list(): SimBalancer[] {
    return [...this.balancers.values()].sort((a, b) => a.service.localeCompare(b.service));
  }

  ensure(pool: AddressPool, service: Service, nodes: readonly Node[], ticket: number): SimBalancer {
    this.checkTurn('ensureLoadBalancer', service, ticket);
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
  update(pool: AddressPool, service: Service, nodes: readonly Node[], ticket: number): void {
    this.checkTurn('updateLoadBalancer', service, ticket);
    this.ensure(pool, service, nodes, ticket);
  }

  delete(service: Service, ticket: number): void {
    this.checkTurn('ensureLoadBalancerDeleted', service, ticket);
    // The ticket is dropped with the balancer, so the map holds only Services with a balancer or a call in flight.
    if (this.latest.get(serviceKey(service)) === ticket) this.latest.delete(serviceKey(service));
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
