/**
 * Node IPAM's decisions, pure: one CidrSet per family of `--cluster-cidr` (one IPv4 and/or one
 * IPv6 range, as Kubernetes' dual-stack range allocator), a Node's `spec.podCIDRs` holding one
 * range of each, in the order the cluster CIDRs are given.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { CidrSet, formatCidr, parseCidr } from './cidr-set.js';
import { InvalidCidrError } from './errors.js';
import { nodeIpamLimits } from './limits.js';

export interface NodeCidrSettings {
  /** `--cluster-cidr`: comma-separated, at most one per family. */
  readonly clusterCidr: string;
  /** `--node-cidr-mask-size-ipv4` (24) and `--node-cidr-mask-size-ipv6` (64). */
  readonly nodeMaskSizeIpv4: number;
  readonly nodeMaskSizeIpv6: number;
}

export type AllocationResult =
  | { readonly kind: 'allocated'; readonly podCidrs: readonly string[] }
  /** Some family has no free range left: nothing is held (what other families gave is freed again). */
  | { readonly kind: 'exhausted'; readonly clusterCidr: string };

/** The ranges a Node holds: `spec.podCIDRs`, or the older single `spec.podCIDR`. */
export function nodePodCidrs(node: Pick<Node, 'spec'>): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  return node.spec?.podCIDR !== undefined && node.spec.podCIDR !== '' ? [node.spec.podCIDR] : [];
}

/**
 * Which Node holds which range. Ranges are remembered by owner, so occupying a Node's own ranges
 * again is a no-op, and a second Node claiming a taken range is reported rather than hidden.
 */
export class NodeCidrAllocator {
  readonly sets: readonly CidrSet[];
  private readonly owners = new Map<string, { readonly node: string; readonly set: CidrSet }>();

  constructor(settings: NodeCidrSettings) {
    const cidrs = settings.clusterCidr.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (cidrs.length === 0) throw new InvalidCidrError(settings.clusterCidr, 'no cluster CIDR');
    if (cidrs.length > nodeIpamLimits.familiesMax) throw new InvalidCidrError(settings.clusterCidr, `more than ${nodeIpamLimits.familiesMax} cluster CIDRs`);
    const families = cidrs.map((c) => parseCidr(c).family);
    if (new Set(families).size !== families.length) throw new InvalidCidrError(settings.clusterCidr, 'two cluster CIDRs of one family');
    this.sets = cidrs.map((c, i) => new CidrSet(c, families[i] === 4 ? settings.nodeMaskSizeIpv4 : settings.nodeMaskSizeIpv6));
  }

  /**
   * Marks a Node's ranges as used by it. Returns the ranges inside no cluster CIDR (the Node keeps
   * them; they are never handed out) and those another Node already holds (a cluster whose ranges
   * were set by hand): both for the caller to report.
   */
  occupy(node: string, podCidrs: readonly string[]): { readonly foreign: string[]; readonly overlapping: string[] } {
    const foreign: string[] = [];
    const overlapping: string[] = [];
    for (const text of podCidrs) {
      const cidr = normalize(text);
      const owner = cidr === undefined ? undefined : this.owners.get(cidr);
      if (owner?.node === node) continue;
      const set = cidr === undefined ? undefined : this.sets.find((s) => s.contains(cidr));
      if (cidr === undefined || set === undefined) {
        foreign.push(text);
        continue;
      }
      if (owner !== undefined || set.isUsed(cidr)) overlapping.push(text);
      set.occupy(cidr);
      this.owners.set(cidr, { node, set });
    }
    return { foreign, overlapping };
  }

  /** Frees every range `node` holds (its Node was deleted, or writing a fresh allocation failed). */
  release(node: string): void {
    const freed = [...this.owners].filter(([, owner]) => owner.node === node);
    for (const [cidr, owner] of freed) {
      this.owners.delete(cidr);
      owner.set.release(cidr);
    }
    // A range another Node overlaps (set by hand) stays used.
    for (const [cidr, owner] of this.owners) {
      if (freed.some(([f, o]) => o.set === owner.set && cidrsOverlap(f, cidr))) owner.set.occupy(cidr);
    }
  }

  /** A range of each family for `node`, or `exhausted` holding nothing. */
  allocate(node: string): AllocationResult {
    const taken: string[] = [];
    for (const set of this.sets) {
      const cidr = set.allocateNext();
      if (cidr === undefined) {
        for (const [i, t] of taken.entries()) {
          this.sets[i]?.release(t);
          this.owners.delete(t);
        }
        return { kind: 'exhausted', clusterCidr: `${formatCidr(set.cluster)} (${set.capacity} ranges of /${set.nodeMaskSize}, all in use)` };
      }
      taken.push(cidr);
      this.owners.set(cidr, { node, set });
    }
    return { kind: 'allocated', podCidrs: taken };
  }

  /** The Node holding a range, if any (tests and diagnostics). */
  ownerOf(cidr: string): string | undefined {
    const normalized = normalize(cidr);
    return normalized === undefined ? undefined : this.owners.get(normalized)?.node;
  }
}

function normalize(text: string): string | undefined {
  try {
    return formatCidr(parseCidr(text));
  } catch {
    return undefined;
  }
}

function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (x.family !== y.family) return false;
  const bits = x.family === 4 ? 32 : 128;
  const shift = BigInt(bits - Math.min(x.prefix, y.prefix));
  return x.base >> shift === y.base >> shift;
}
