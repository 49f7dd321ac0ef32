/**
 * The `sim` provider's scripted cloud (`--cloud-config`, YAML or JSON; re-read when it changes):
 *
 *     seed: 42                    # decides every latency draw and every failure
 *     latencyMs: 20               # each API call takes latencyMs ± jitterMs
 *     jitterMs: 10
 *     failureRate: 0.5            # 0–1: this share of calls fail (CloudProviderError, retryable)
 *     loadBalancerPool: 127.99.0.0/24   # or a list of addresses; sim balancers carry no traffic
 *     instances:
 *       - name: node-a            # the Node's name (or the id in spec.providerID sim://<id>)
 *         zone: sim-a
 *         region: sim
 *         instanceType: sim.small
 *         addresses: [127.32.0.1] # or [{type: InternalIP, address: 127.32.0.1}]
 *         state: running          # running | stopped | terminated
 *
 * A chaos runner or a test flips an instance to `terminated` (or removes it) by rewriting the file.
 */
import type { NodeAddress } from 'kubernetes-types/core/v1.js';
import { AddressPool, AddressPoolError } from '../shared/address-pool.js';
import { ConfigFields, parseConfigDocument } from '../shared/config-file.js';
import { simLimits } from './limits.js';

export const simProviderName = 'sim';
export const defaultSimPool = '127.99.0.0/24';
export const instanceStates = ['running', 'stopped', 'terminated'] as const;
export type InstanceState = (typeof instanceStates)[number];
const addressTypes = ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'] as const;

export interface SimInstance {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  readonly instanceType: string;
  readonly addresses: readonly NodeAddress[];
  readonly state: InstanceState;
}

export interface SimConfig {
  readonly seed: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly failureRate: number;
  readonly loadBalancerPool: AddressPool;
  readonly instances: ReadonlyMap<string, SimInstance>;
}

/** An example for the error a missing `--cloud-config` gives. */
export const simConfigExample = 'seed: 1\nfailureRate: 0\ninstances:\n  - name: node-a\n    zone: sim-a\n    state: running';

export function parseSimConfig(file: string, text: string): SimConfig {
  const fields = new ConfigFields(simProviderName, file);
  const document = parseConfigDocument(simProviderName, file, text);
  fields.only(document, '', ['seed', 'latencyMs', 'jitterMs', 'failureRate', 'loadBalancerPool', 'instances']);
  const seed = fields.number(document['seed'], 'seed', { min: 0, max: 0xffff_ffff, fallback: 1 });
  if (!Number.isInteger(seed)) throw fields.invalid('seed', 'must be a whole number');
  const latencyMs = fields.number(document['latencyMs'], 'latencyMs', { min: 0, max: simLimits.latencyMsMax, fallback: 0 });
  const jitterMs = fields.number(document['jitterMs'], 'jitterMs', { min: 0, max: simLimits.latencyMsMax, fallback: 0 });
  const failureRate = fields.number(document['failureRate'], 'failureRate', { min: 0, max: 1, fallback: 0 });
  const entries = fields.list(document['instances'], 'instances');
  if (entries.length > simLimits.instancesMax) throw fields.invalid('instances', `${entries.length} is more than the ${simLimits.instancesMax} a scripted cloud may list`);
  const instances = new Map<string, SimInstance>();
  entries.forEach((entry, index) => {
    const instance = parseInstance(fields, entry, `instances[${index}]`);
    if (instances.has(instance.name)) throw fields.invalid(`instances[${index}].name`, `${instance.name} is listed twice`);
    instances.set(instance.name, instance);
  });
  return { seed, latencyMs, jitterMs, failureRate, loadBalancerPool: parsePool(fields, document['loadBalancerPool']), instances };
}

function parseInstance(fields: ConfigFields, entry: unknown, path: string): SimInstance {
  const value = fields.object(entry, path);
  fields.only(value, path, ['name', 'zone', 'region', 'instanceType', 'addresses', 'state']);
  const state = fields.string(value['state'], `${path}.state`, 'running');
  if (!instanceStates.includes(state as InstanceState)) throw fields.invalid(`${path}.state`, `must be one of ${instanceStates.join(', ')}`);
  const addresses = fields.list(value['addresses'], `${path}.addresses`);
  if (addresses.length > simLimits.addressesPerInstanceMax) throw fields.invalid(`${path}.addresses`, `at most ${simLimits.addressesPerInstanceMax}`);
  return {
    name: fields.string(value['name'], `${path}.name`),
    zone: fields.string(value['zone'], `${path}.zone`, 'sim-a'),
    region: fields.string(value['region'], `${path}.region`, 'sim'),
    instanceType: fields.string(value['instanceType'], `${path}.instanceType`, 'sim.standard'),
    addresses: addresses.map((address, index) => parseAddress(fields, address, `${path}.addresses[${index}]`)),
    state: state as InstanceState,
  };
}

function parseAddress(fields: ConfigFields, entry: unknown, path: string): NodeAddress {
  if (typeof entry === 'string') return { type: 'InternalIP', address: fields.string(entry, path) };
  const value = fields.object(entry, path);
  fields.only(value, path, ['type', 'address']);
  const type = fields.string(value['type'], `${path}.type`, 'InternalIP');
  if (!addressTypes.includes(type as (typeof addressTypes)[number])) throw fields.invalid(`${path}.type`, `must be one of ${addressTypes.join(', ')}`);
  return { type, address: fields.string(value['address'], `${path}.address`) };
}

function parsePool(fields: ConfigFields, pool: unknown): AddressPool {
  try {
    if (pool === undefined) return AddressPool.fromCidr(defaultSimPool);
    if (typeof pool === 'string') return AddressPool.fromCidr(pool);
    if (Array.isArray(pool) && pool.every((entry): entry is string => typeof entry === 'string')) return AddressPool.fromList(pool);
  } catch (error) {
    if (error instanceof AddressPoolError) throw fields.invalid('loadBalancerPool', error.message);
    throw error;
  }
  throw fields.invalid('loadBalancerPool', 'must be a CIDR or a list of addresses');
}
