/**
 * A load balancer address pool and the choice of a Service's address from it.
 *
 * Decision: providers hold no state the controllers cannot rebuild (provider.ts), so the choice
 * is a pure function of the Service and of the addresses this process already handed out:
 * 1. an address the Service asks for (`spec.loadBalancerIP`) or already has in
 *    `status.loadBalancer.ingress`, when it is in the pool and free: a restarted or newly elected
 *    controller manager, which ensures every Service again, gives each the address it had;
 * 2. otherwise the first free address probing from a hash of `namespace/name`, so the same
 *    Service (even deleted and created again) tends to get the same address.
 * The cost: after a leader change a new Service ensured before an old one can take the old one's
 * address if their hashes collide; the old Service then moves. Kubernetes' in-tree clouds avoid
 * this by asking their cloud API; a loopback pool has no one to ask.
 */
import ipaddr from 'ipaddr.js';
import { providerLimits } from './limits.js';

/** The pool is malformed or too large (the message says which). */
export class AddressPoolError extends RangeError {
  override readonly name = 'AddressPoolError';
}

export class AddressPool {
  private readonly listed: readonly string[] | null;

  private constructor(private readonly first: number, readonly size: number, listed: readonly string[] | null, readonly description: string) {
    this.listed = listed;
  }

  /** An IPv4 CIDR; network and broadcast addresses are left out for prefixes up to /30. */
  static fromCidr(cidr: string): AddressPool {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(cidr);
    } catch {
      throw new AddressPoolError(`"${cidr}" is not a CIDR such as 127.98.0.0/24`);
    }
    const [address, prefix] = parsed;
    if (address.kind() !== 'ipv4') throw new AddressPoolError(`"${cidr}": only IPv4 pools are supported`);
    const span = 2 ** (32 - prefix);
    const network = (toUint32(address.toString()) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0)) >>> 0;
    const [first, size] = prefix <= 30 ? [network + 1, span - 2] : [network, span];
    if (size > providerLimits.poolAddressesMax) {
      throw new AddressPoolError(`"${cidr}" holds ${size} addresses, more than the ${providerLimits.poolAddressesMax} a pool may (use a /16 or smaller)`);
    }
    return new AddressPool(first, size, null, cidr);
  }

  /** An explicit list of IPv4 addresses (duplicates refused). */
  static fromList(addresses: readonly string[]): AddressPool {
    const normalized = addresses.map((address) => {
      if (!ipaddr.IPv4.isValidFourPartDecimal(address)) throw new AddressPoolError(`"${address}" is not an IPv4 address`);
      return ipaddr.IPv4.parse(address).toString();
    });
    if (new Set(normalized).size !== normalized.length) throw new AddressPoolError('the address list names an address twice');
    if (normalized.length === 0) throw new AddressPoolError('the address list is empty');
    if (normalized.length > providerLimits.poolAddressesMax) throw new AddressPoolError(`more than ${providerLimits.poolAddressesMax} addresses`);
    return new AddressPool(0, normalized.length, normalized, `[${normalized.join(', ')}]`);
  }

  at(index: number): string {
    if (this.listed !== null) return this.listed[index] as string;
    return fromUint32(this.first + index);
  }

  contains(address: string): boolean {
    if (!ipaddr.IPv4.isValidFourPartDecimal(address)) return false;
    const normal = ipaddr.IPv4.parse(address).toString();
    if (this.listed !== null) return this.listed.includes(normal);
    const value = toUint32(normal);
    return value >= this.first && value < this.first + this.size;
  }
}

export interface AddressRequest {
  /** `namespace/name` of the Service: the hash that spreads Services over the pool. */
  readonly key: string;
  /** Addresses the Service asks for or already has, best first. */
  readonly preferred: readonly string[];
  /** Addresses handed out in this process, to the key holding each. */
  readonly held: ReadonlyMap<string, string>;
}

/** The Service's address, or null when every address of the pool is held by another Service. */
export function chooseAddress(pool: AddressPool, request: AddressRequest): string | null {
  for (const candidate of request.preferred) {
    if (!pool.contains(candidate)) continue;
    const address = ipaddr.IPv4.parse(candidate).toString();
    const holder = request.held.get(address);
    if (holder === undefined || holder === request.key) return address;
  }
  const start = fnv1a(request.key) % pool.size;
  for (let step = 0; step < pool.size; step++) {
    const address = pool.at((start + step) % pool.size);
    const holder = request.held.get(address);
    if (holder === undefined || holder === request.key) return address;
  }
  return null;
}

/** FNV-1a, 32 bits: a stable hash (the same key picks the same start in every process and version). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function toUint32(address: string): number {
  const bytes = ipaddr.IPv4.parse(address).toByteArray();
  return (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0;
}

function fromUint32(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}
