/**
 * Pod addresses from the node's pod CIDR, one per sandbox, like CNI's host-local IPAM: the next
 * free address after the last one handed out (so a just-released address is not given to the
 * next pod at once, which would confuse Endpoints still pointing at the old one), skipping the
 * network and broadcast addresses of ranges larger than /31.
 *
 * Decision: the allocator is a plain object whose state is a JSON-able snapshot; the process
 * runtime persists it (`<dir>/runtime/ips.json`) after every change so a restarted agent keeps
 * every pod's address, the hollow runtime keeps it in memory only. IPv4 only: the process
 * runtime's pod ranges are loopback (127.64.0.0/10 split per node), which Linux serves with no
 * setup; a CIDR the allocator cannot parse is an InvalidPodCidrError.
 */
import { InvalidPodCidrError, PodIpExhaustedError } from './errors.js';

export interface Ipv4Cidr {
  readonly text: string;
  /** First address of the range, as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefixBits: number;
}

export interface IpAllocatorState {
  readonly cidr: string;
  /** The address handed out last; the search for the next one starts after it. */
  readonly cursor: string | null;
  /** address → owner (sandbox id). */
  readonly assigned: Readonly<Record<string, string>>;
}

export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr {
  const [address, bits, extra] = cidr.split('/');
  const prefixBits = Number(bits);
  const start = address === undefined ? undefined : ipv4ToNumber(address);
  if (start === undefined || extra !== undefined || !/^\d{1,2}$/.test(bits ?? '') || prefixBits > 32) {
    throw new InvalidPodCidrError(cidr);
  }
  const size = 2 ** (32 - prefixBits);
  return { text: cidr, base: start - (start % size), prefixBits };
}

export function cidrContains(cidr: Ipv4Cidr, ip: string): boolean {
  const value = ipv4ToNumber(ip);
  return value !== undefined && value >= cidr.base && value < cidr.base + 2 ** (32 - cidr.prefixBits);
}

/** 127.0.0.0/8: every address answers on the loopback interface with no setup. */
export function isLoopbackCidr(cidr: Ipv4Cidr): boolean {
  return cidr.prefixBits >= 8 && Math.floor(cidr.base / 2 ** 24) === 127;
}

/** The usable host addresses of a range: all of a /31 or /32, else without network and broadcast. */
function hostRange(cidr: Ipv4Cidr): { readonly first: number; readonly last: number } {
  const size = 2 ** (32 - cidr.prefixBits);
  if (size <= 2) return { first: cidr.base, last: cidr.base + size - 1 };
  return { first: cidr.base + 1, last: cidr.base + size - 2 };
}

export class IpAllocator {
  private readonly range: { readonly first: number; readonly last: number };
  private cursor: number | null;
  private readonly assigned: Map<string, string>;

  /** Starts from a persisted state when its CIDR is this one; addresses outside the CIDR are dropped. */
  constructor(readonly cidr: Ipv4Cidr, state?: IpAllocatorState) {
    this.range = hostRange(cidr);
    const same = state !== undefined && state.cidr === cidr.text;
    this.cursor = same && state.cursor !== null ? ipv4ToNumber(state.cursor) ?? null : null;
    this.assigned = new Map(same ? Object.entries(state.assigned).filter(([ip]) => cidrContains(cidr, ip)) : []);
  }

  allocate(owner: string): string {
    const existing = this.addressOf(owner);
    if (existing !== undefined) return existing;
    const count = this.range.last - this.range.first + 1;
    const start = this.cursor === null || this.cursor >= this.range.last || this.cursor < this.range.first ? this.range.first : this.cursor + 1;
    for (let step = 0; step < count; step += 1) {
      const candidate = this.range.first + ((start - this.range.first + step) % count);
      const ip = numberToIpv4(candidate);
      if (!this.assigned.has(ip)) {
        this.assigned.set(ip, owner);
        this.cursor = candidate;
        return ip;
      }
    }
    throw new PodIpExhaustedError(this.cidr.text, this.assigned.size);
  }

  /**
   * Records an address the caller already knows (a restarted agent's checkpoint) for `owner`. The
   * caller knows best: an address still held by another owner (a sandbox the agent is replacing)
   * moves to this one, so removing the old owner later cannot free it under the new one. Returns
   * the previous other holder, if any.
   */
  reserve(ip: string, owner: string): string | undefined {
    if (!cidrContains(this.cidr, ip)) return undefined;
    const holder = this.assigned.get(ip);
    this.release(owner);
    this.assigned.set(ip, owner);
    return holder !== undefined && holder !== owner ? holder : undefined;
  }

  release(owner: string): void {
    for (const [ip, holder] of this.assigned) if (holder === owner) this.assigned.delete(ip);
  }

  addressOf(owner: string): string | undefined {
    for (const [ip, holder] of this.assigned) if (holder === owner) return ip;
    return undefined;
  }

  snapshot(): IpAllocatorState {
    return {
      cidr: this.cidr.text,
      cursor: this.cursor === null ? null : numberToIpv4(this.cursor),
      assigned: Object.fromEntries(this.assigned),
    };
  }
}
