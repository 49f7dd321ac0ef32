/**
 * The Service address ranges of `--service-cluster-ip-range` and `--service-node-port-range`,
 * parsed once at member start (a bad flag fails the start, naming it). IPv4 only: kubus' local
 * clusters use loopback ranges, and dual-stack Services are not served.
 *
 * Decision: as in Kubernetes, the range's network and broadcast addresses are never handed out,
 * and its first usable address (127.96.0.1 for 127.96.0.0/16) is kept for the `kubernetes`
 * Service: it may be asked for explicitly but is never chosen for a Service that asks for none.
 */
import ipaddr from 'ipaddr.js';
import { ServiceRangeFlagError } from './errors.js';
import { serviceAllocationLimits } from './limits.js';

export const clusterIpRangeFlag = '--service-cluster-ip-range';
export const nodePortRangeFlag = '--service-node-port-range';
export const defaultClusterIpRange = '127.96.0.0/16';
export const defaultNodePortRange = '30000-32767';

/** Addresses as unsigned 32-bit numbers, bounds inclusive. */
export interface ClusterIpRange {
  /** The range as Kubernetes prints it in messages: network address and prefix (`127.96.0.0/16`). */
  readonly cidr: string;
  /** First address that may be held (network + 1): the `kubernetes` Service's. */
  readonly first: number;
  /** Last address that may be held (broadcast − 1). */
  readonly last: number;
  /** First address chosen for a Service that names none (first + 1). */
  readonly dynamicFirst: number;
}

export interface NodePortRange {
  /** As Kubernetes prints it: `30000-32767`. */
  readonly text: string;
  readonly first: number;
  readonly last: number;
}

export interface ServiceRanges {
  readonly clusterIps: ClusterIpRange;
  readonly nodePorts: NodePortRange;
}

/** Both ranges from the member's flags (absent: the defaults); throws ServiceRangeFlagError naming the bad one. */
export function parseServiceRanges(flags: { serviceClusterIpRange?: string | undefined; serviceNodePortRange?: string | undefined }): ServiceRanges {
  return {
    clusterIps: parseClusterIpRange(flags.serviceClusterIpRange ?? defaultClusterIpRange),
    nodePorts: parseNodePortRange(flags.serviceNodePortRange ?? defaultNodePortRange),
  };
}

export function parseClusterIpRange(text: string): ClusterIpRange {
  const fail = (reason: string): never => { throw new ServiceRangeFlagError(clusterIpRangeFlag, text, reason); };
  const trimmed = text.trim();
  if (trimmed.includes(',')) fail('dual-stack ranges are not supported: give one IPv4 CIDR');
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(trimmed)) {
    fail(ipaddr.IPv6.isValidCIDR(trimmed) ? 'only IPv4 ranges are supported' : 'must be an IPv4 CIDR such as 127.96.0.0/16');
  }
  const [, bits] = ipaddr.IPv4.parseCIDR(trimmed);
  const { clusterIpPrefixLengthMin: min, clusterIpPrefixLengthMax: max } = serviceAllocationLimits;
  if (bits < min) fail(`the range is too large: the prefix length must be at least ${min}`);
  if (bits > max) fail(`the range is too small: the prefix length must be at most ${max}`);
  const network = ipv4ToNumber(ipaddr.IPv4.networkAddressFromCIDR(trimmed).toString()) as number;
  const broadcast = ipv4ToNumber(ipaddr.IPv4.broadcastAddressFromCIDR(trimmed).toString()) as number;
  return { cidr: `${numberToIpv4(network)}/${bits}`, first: network + 1, last: broadcast - 1, dynamicFirst: network + 2 };
}

export function parseNodePortRange(text: string): NodePortRange {
  const fail = (reason: string): never => { throw new ServiceRangeFlagError(nodePortRangeFlag, text, reason); };
  // Kubernetes' forms: `first-last`, `first+count`, or one port.
  const match = /^\s*(\d{1,5})(?:\s*([-+])\s*(\d{1,5}))?\s*$/.exec(text);
  if (match === null) return fail('must be a port range such as 30000-32767');
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : match[2] === '-' ? Number(match[3]) : first + Number(match[3]);
  if (first < 1 || last > 65_535) fail('ports must be between 1 and 65535');
  if (last < first) fail('the last port is before the first');
  return { text: `${first}-${last}`, first, last };
}

/** The `kubernetes` Service's address: the range's first usable one. */
export function kubernetesServiceIp(range: ClusterIpRange): string {
  return numberToIpv4(range.first);
}

/** A dotted-quad IPv4 address as a number; null for anything else (IPv6, `None`, leading zeros). */
export function ipv4ToNumber(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const octets = ipaddr.IPv4.parse(text).octets;
  // Canonical form only: `127.096.0.1` would name the same address under another key.
  if (octets.join('.') !== text) return null;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function sizeOf(range: { first: number; last: number }): number {
  return range.last - range.first + 1;
}
