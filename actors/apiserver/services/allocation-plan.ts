/**
 * Which addresses one Service write takes and releases: a pure decision, given the Service as
 * stored before (null on create), the Service to store (defaults applied, update prepared), the
 * ranges, and a chooser of free candidates. Addresses the client asked for are checked against
 * the ranges here; whether they are free is the store txn's to say (allocator.ts).
 *
 * Decision: as in Kubernetes, a Service whose ports share a port number on different protocols
 * (53/TCP and 53/UDP) gets one node port for both.
 */
import type { FieldCause } from '../types.js';
import { Causes, type Obj } from '../validation-core.js';
import { addressId, addressesHeld, type Address, type AddressKind } from './records.js';
import { serviceAllocationLimits } from './limits.js';
import { ipv4ToNumber, numberToIpv4, type ServiceRanges } from './ranges.js';
import { isUnset, needsClusterIp, needsHealthCheckNodePort, needsNodePorts, portsOf } from './service-spec.js';

/** One address the write must create a record for. */
export interface Claim {
  readonly address: Address;
  /** The field it fills, for the 422 when it turns out taken. */
  readonly field: string;
  /** The client named it: if taken, the write fails; a chosen one is replaced by another. */
  readonly explicit: boolean;
}

export interface AllocationPlan {
  /** Not empty: the write is refused with 422 (out of range, range full). */
  readonly causes: readonly FieldCause[];
  readonly claims: readonly Claim[];
  readonly releases: readonly Address[];
  /** A range had no free candidate (one of the causes says so). */
  readonly full: boolean;
}

/** A free candidate of a kind, other than those in `exclude` (this write's own picks); null when none is left. */
export type ChooseFree = (kind: AddressKind, exclude: ReadonlySet<string>) => number | null;

/** Fills the Service's unset addresses in `spec` (in place) and says what to claim and release. */
export function planAllocation(spec: Obj, oldSpec: Obj | null, ranges: ServiceRanges, choose: ChooseFree): AllocationPlan {
  const before = new Map(addressesHeld(oldSpec ?? undefined).map((address) => [addressId(address), address]));
  const causes = new Causes();
  const claims: Claim[] = [];
  const after = new Set<string>();
  let full = false;
  const take = (address: Address, field: string, explicit: boolean): void => {
    const id = addressId(address);
    if (after.has(id)) return;
    after.add(id);
    if (before.has(id)) return;
    if (explicit && !inRange(address, ranges)) {
      causes.invalid(field, address.kind === 'ip' ? [numberToIpv4(address.value)] : address.value, outOfRange(address, ranges));
      return;
    }
    claims.push({ address, field, explicit });
  };
  const pick = (kind: AddressKind, field: string): number | null => {
    const value = choose(kind, after);
    if (value === null) {
      full = true;
      causes.list.push({ reason: 'FieldValueInvalid', field, message: `Internal error: range ${kind === 'ip' ? ranges.clusterIps.cidr : ranges.nodePorts.text} is full` });
      return null;
    }
    take({ kind, value }, field, false);
    return value;
  };

  if (needsClusterIp(spec) && spec['clusterIP'] !== 'None') {
    if (isUnset(spec['clusterIP'])) {
      const ip = pick('ip', 'spec.clusterIPs');
      if (ip !== null) {
        spec['clusterIP'] = numberToIpv4(ip);
        spec['clusterIPs'] = [numberToIpv4(ip)];
      }
    } else {
      // Not an IPv4 address: validation has answered that already.
      const ip = typeof spec['clusterIP'] === 'string' ? ipv4ToNumber(spec['clusterIP']) : null;
      if (ip !== null) take({ kind: 'ip', value: ip }, 'spec.clusterIPs', true);
    }
  }
  const distinctNodePorts = new Set(portsOf(spec).map((port) => port['nodePort']).filter((value) => !isUnset(value)));
  const wanted = needsNodePorts(spec) ? new Set(portsOf(spec).map((port) => port['port'])).size : distinctNodePorts.size;
  if (Math.max(wanted, distinctNodePorts.size) > serviceAllocationLimits.nodePortsPerServiceMax) {
    // Before any pick: a Service over the bound is refused whole.
    causes.list.push({
      reason: 'FieldValueTooLong', field: 'spec.ports',
      message: `Too many: ${Math.max(wanted, distinctNodePorts.size)}: must have at most ${serviceAllocationLimits.nodePortsPerServiceMax} node ports (a Service and its addresses are written in one store transaction)`,
    });
    return { causes: causes.list, claims: [], releases: [], full: false };
  }
  planNodePorts(spec, take, pick);
  const health = spec['healthCheckNodePort'];
  if (!isUnset(health) && Number.isInteger(health)) take({ kind: 'port', value: health as number }, 'spec.healthCheckNodePort', true);
  else if (needsHealthCheckNodePort(spec)) {
    const port = pick('port', 'spec.healthCheckNodePort');
    if (port !== null) spec['healthCheckNodePort'] = port;
  }
  const releases = [...before.entries()].filter(([id]) => !after.has(id)).map(([, address]) => address);
  return { causes: causes.list, claims, releases, full };
}

function planNodePorts(spec: Obj, take: (address: Address, field: string, explicit: boolean) => void, pick: (kind: AddressKind, field: string) => number | null): void {
  const ports = portsOf(spec);
  // Node ports by service port number, so 53/TCP and 53/UDP share one.
  const byPort = new Map<unknown, number>();
  ports.forEach((port, index) => {
    const nodePort = port['nodePort'];
    if (isUnset(nodePort) || !Number.isInteger(nodePort)) return;
    take({ kind: 'port', value: nodePort as number }, `spec.ports[${index}].nodePort`, true);
    if (!byPort.has(port['port'])) byPort.set(port['port'], nodePort as number);
  });
  if (!needsNodePorts(spec)) return;
  ports.forEach((port, index) => {
    if (!isUnset(port['nodePort'])) return;
    const shared = byPort.get(port['port']);
    const sharedProtocolFree = shared !== undefined && !ports.some((other) => other['nodePort'] === shared && other['protocol'] === port['protocol']);
    if (shared !== undefined && sharedProtocolFree) {
      port['nodePort'] = shared;
      return;
    }
    const chosen = pick('port', `spec.ports[${index}].nodePort`);
    if (chosen === null) return;
    port['nodePort'] = chosen;
    if (!byPort.has(port['port'])) byPort.set(port['port'], chosen);
  });
}

export function inRange(address: Address, ranges: ServiceRanges): boolean {
  const range = address.kind === 'ip' ? ranges.clusterIps : ranges.nodePorts;
  return address.value >= range.first && address.value <= range.last;
}

function outOfRange(address: Address, ranges: ServiceRanges): string {
  return address.kind === 'ip'
    ? `failed to allocate IP ${numberToIpv4(address.value)}: provided IP is not in the valid range. The range of valid IPs is ${ranges.clusterIps.cidr}`
    : `provided port is not in the valid range. The range of valid ports is ${ranges.nodePorts.text}`;
}

/** The 422 cause for a claimed address another Service holds (Kubernetes' words). */
export function takenCause(claim: Claim): FieldCause {
  const causes = new Causes();
  if (claim.address.kind === 'ip') {
    const ip = numberToIpv4(claim.address.value);
    causes.invalid(claim.field, [ip], `failed to allocate IP ${ip}: provided IP is already allocated`);
  } else {
    causes.invalid(claim.field, claim.address.value, 'provided port is already allocated');
  }
  return causes.list[0] as FieldCause;
}
