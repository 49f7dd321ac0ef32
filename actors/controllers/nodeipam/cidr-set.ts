/**
 * A cluster CIDR cut into equal node ranges, with a bit per range: Kubernetes' `cidrset`, the
 * pure heart of node IPAM. No I/O, no clock: the controller occupies what Nodes already hold,
 * then allocates and releases; a test drives it directly.
 *
 * Decision: allocation rotates from the range after the last one handed out (as cidrset does)
 * rather than always taking the lowest free one, so a range released by a deleted Node is reused
 * last; stale routes or conntrack entries of the old Node then have the longest time to age out.
 */
import { InvalidCidrError, InvalidNodeCidrMaskError } from './errors.js';
import { nodeIpamLimits } from './limits.js';

export type IpFamily = 4 | 6;

export interface Cidr {
  readonly family: IpFamily;
  /** The network address as an unsigned integer (host bits zero). */
  readonly base: bigint;
  readonly prefix: number;
}

const familyBits = { 4: 32, 6: 128 } as const;

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidCidrError(text, 'no /prefix');
  const address = text.slice(0, slash).trim();
  const prefixText = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText)) throw new InvalidCidrError(text, 'the prefix is not a number');
  const prefix = Number(prefixText);
  const parsed = address.includes(':') ? parseIpv6(address, text) : parseIpv4(address, text);
  const bits = familyBits[parsed.family];
  if (prefix > bits) throw new InvalidCidrError(text, `prefix above ${bits}`);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family: parsed.family, base: parsed.value & ~hostMask & ((1n << BigInt(bits)) - 1n), prefix };
}

function parseIpv4(address: string, text: string): { family: 4; value: bigint } {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new InvalidCidrError(text, 'not an IPv4 address');
  return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
}

function parseIpv6(address: string, text: string): { family: 6; value: bigint } {
  const halves = address.split('::');
  if (halves.length > 2) throw new InvalidCidrError(text, 'more than one "::"');
  const groups = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) throw new InvalidCidrError(text, 'not an IPv6 address');
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw new InvalidCidrError(text, 'not an IPv6 address');
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.base)}/${cidr.prefix}`;
}

function formatAddress(family: IpFamily, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The node ranges of one cluster CIDR: which are taken, and the next one to hand out. */
export class CidrSet {
  readonly cluster: Cidr;
  readonly nodeMaskSize: number;
  /** How many node ranges the cluster CIDR holds. */
  readonly capacity: number;
  private readonly used: Uint8Array;
  private usedCount = 0;
  private nextCandidate = 0;

  constructor(clusterCidr: string, nodeMaskSize: number) {
    const cluster = parseCidr(clusterCidr);
    const bits = familyBits[cluster.family];
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize > bits) throw new InvalidNodeCidrMaskError(clusterCidr, nodeMaskSize, `not an integer up to ${bits}`);
    if (nodeMaskSize < cluster.prefix) throw new InvalidNodeCidrMaskError(clusterCidr, nodeMaskSize, 'a node range larger than the cluster range');
    if (nodeMaskSize - cluster.prefix > nodeIpamLimits.subnetBitsMax) {
      throw new InvalidNodeCidrMaskError(clusterCidr, nodeMaskSize, `more than 2^${nodeIpamLimits.subnetBitsMax} node ranges (nodeIpamLimits.subnetBitsMax)`);
    }
    this.cluster = cluster;
    this.nodeMaskSize = nodeMaskSize;
    this.capacity = 2 ** (nodeMaskSize - cluster.prefix);
    this.used = new Uint8Array(this.capacity);
  }

  get family(): IpFamily {
    return this.cluster.family;
  }

  get allocated(): number {
    return this.usedCount;
  }

  /** The next free node range, marked used; undefined when every range is taken. */
  allocateNext(): string | undefined {
    for (let step = 0; step < this.capacity; step++) {
      const index = (this.nextCandidate + step) % this.capacity;
      if (this.used[index] === 1) continue;
      this.mark(index, 1);
      this.nextCandidate = (index + 1) % this.capacity;
      return formatCidr(this.rangeAt(index));
    }
    return undefined;
  }

  /**
   * Marks every node range `cidr` overlaps as used (a Node that already holds a range, perhaps of
   * another size). False when `cidr` is of the other family or outside the cluster CIDR.
   */
  occupy(cidr: string): boolean {
    const span = this.indexSpan(cidr);
    if (span === undefined) return false;
    for (let i = span.first; i <= span.last; i++) this.mark(i, 1);
    return true;
  }

  /** Frees the node ranges `cidr` overlaps; false when it is not ours to free. */
  release(cidr: string): boolean {
    const span = this.indexSpan(cidr);
    if (span === undefined) return false;
    for (let i = span.first; i <= span.last; i++) this.mark(i, 0);
    return true;
  }

  /** Is `cidr` of this family and inside the cluster CIDR (wholly or partly)? */
  contains(cidr: string): boolean {
    return this.indexSpan(cidr) !== undefined;
  }

  isUsed(cidr: string): boolean {
    const span = this.indexSpan(cidr);
    if (span === undefined) return false;
    for (let i = span.first; i <= span.last; i++) if (this.used[i] === 1) return true;
    return false;
  }

  private mark(index: number, value: 0 | 1): void {
    if (this.used[index] === value) return;
    this.used[index] = value;
    this.usedCount += value === 1 ? 1 : -1;
  }

  private rangeAt(index: number): Cidr {
    const shift = BigInt(familyBits[this.cluster.family] - this.nodeMaskSize);
    return { family: this.cluster.family, base: this.cluster.base + (BigInt(index) << shift), prefix: this.nodeMaskSize };
  }

  private indexSpan(text: string): { first: number; last: number } | undefined {
    let cidr: Cidr;
    try {
      cidr = parseCidr(text);
    } catch {
      return undefined;
    }
    if (cidr.family !== this.cluster.family) return undefined;
    const bits = familyBits[cidr.family];
    const clusterShift = BigInt(bits - this.cluster.prefix);
    // Inside the cluster range (or holding it whole): compare at the coarser of the two prefixes.
    const common = BigInt(bits - Math.min(cidr.prefix, this.cluster.prefix));
    if (cidr.base >> common !== this.cluster.base >> common) return undefined;
    const nodeShift = BigInt(bits - this.nodeMaskSize);
    const offset = (value: bigint): number => Number((value - this.cluster.base) >> nodeShift);
    const clusterLast = this.cluster.base + (1n << clusterShift) - 1n;
    const first = cidr.base < this.cluster.base ? this.cluster.base : cidr.base;
    const lastAddress = cidr.base + (1n << BigInt(bits - cidr.prefix)) - 1n;
    const last = lastAddress > clusterLast ? clusterLast : lastAddress;
    return { first: offset(first), last: offset(last) };
  }
}
