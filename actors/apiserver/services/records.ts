/**
 * Allocation records: one store key per held ClusterIP and per held NodePort, written in the same
 * txn as the Service that takes it (created only if absent) and deleted in the txn that releases
 * it. The store's compare-and-swap is then the whole guarantee that no address is handed out
 * twice, across members and restarts.
 *
 * Decision: the keys live under `/registry/ranges/`, where Kubernetes keeps its allocator
 * bitmaps (`/registry/ranges/serviceips`); no resource is served there, so no list or watch of
 * the API reaches them. The value names the owner Service (namespace, name, uid) for the repair
 * pass and for people reading the store.
 */
import type { Obj } from '../validation-core.js';
import { ipv4ToNumber, numberToIpv4 } from './ranges.js';
import { isUnset, needsClusterIp, portsOf } from './service-spec.js';

export const allocationRecordsPrefix = '/registry/ranges/';
const clusterIpPrefix = `${allocationRecordsPrefix}serviceips/`;
const nodePortPrefix = `${allocationRecordsPrefix}servicenodeports/`;

export type AddressKind = 'ip' | 'port';

export interface Address {
  readonly kind: AddressKind;
  readonly value: number;
}

export interface RecordOwner {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export function recordKey(address: Address): string {
  return address.kind === 'ip' ? `${clusterIpPrefix}${numberToIpv4(address.value)}` : `${nodePortPrefix}${address.value}`;
}

export function parseRecordKey(key: string): Address | null {
  if (key.startsWith(clusterIpPrefix)) {
    const value = ipv4ToNumber(key.slice(clusterIpPrefix.length));
    return value === null ? null : { kind: 'ip', value };
  }
  if (key.startsWith(nodePortPrefix)) {
    const text = key.slice(nodePortPrefix.length);
    return /^\d{1,5}$/.test(text) ? { kind: 'port', value: Number(text) } : null;
  }
  return null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(owner: RecordOwner, address: Address): Uint8Array {
  const held = address.kind === 'ip' ? { clusterIP: numberToIpv4(address.value) } : { nodePort: address.value };
  return encoder.encode(JSON.stringify({ owner: { namespace: owner.namespace, name: owner.name, uid: owner.uid }, ...held }));
}

/** The owner a record names; null for bytes this code did not write (the repair pass leaves those alone). */
export function decodeRecord(bytes: Uint8Array): RecordOwner | null {
  try {
    const parsed = JSON.parse(decoder.decode(bytes)) as { owner?: { namespace?: unknown; name?: unknown; uid?: unknown } };
    const owner = parsed.owner;
    if (typeof owner?.namespace !== 'string' || typeof owner.name !== 'string' || typeof owner.uid !== 'string') return null;
    return { namespace: owner.namespace, name: owner.name, uid: owner.uid };
  } catch {
    return null;
  }
}

export const addressId = (address: Address): string => `${address.kind}:${address.value}`;

/** Every address a stored Service spec holds a record for: its ClusterIP, node ports and health-check node port. */
export function addressesHeld(spec: Obj | undefined): Address[] {
  if (spec === undefined) return [];
  const found = new Map<string, Address>();
  const add = (address: Address): void => { found.set(addressId(address), address); };
  const ip = typeof spec['clusterIP'] === 'string' ? ipv4ToNumber(spec['clusterIP']) : null;
  if (needsClusterIp(spec) && ip !== null) add({ kind: 'ip', value: ip });
  for (const port of portsOf(spec)) {
    const nodePort = port['nodePort'];
    if (!isUnset(nodePort) && Number.isInteger(nodePort)) add({ kind: 'port', value: nodePort as number });
  }
  const health = spec['healthCheckNodePort'];
  if (!isUnset(health) && Number.isInteger(health)) add({ kind: 'port', value: health as number });
  return [...found.values()];
}
