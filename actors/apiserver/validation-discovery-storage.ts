/**
 * Validation of discovery.k8s.io/v1 EndpointSlice and storage.k8s.io/v1 StorageClass, with
 * Kubernetes' limits and messages: a slice's addressType (immutable), at most 1000 endpoints of
 * 1 to 100 addresses of that type, named unique ports; a class's provisioner (immutable, like its
 * parameters and reclaimPolicy), reclaimPolicy Delete|Retain, volumeBindingMode
 * Immediate|WaitForFirstConsumer.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Causes, checkName, dns1123Label, dns1123Subdomain, jsonEqual, qualifiedName, type Obj } from './validation-core.js';

/** Kubernetes' maxEndpoints, maxAddresses and maxPorts of an EndpointSlice. */
export const endpointSliceLimits = { endpointsMax: 1000, addressesMax: 100, portsMax: 20_000 } as const;
const addressTypes = ['IPv4', 'IPv6', 'FQDN'] as const;
const protocols = ['TCP', 'UDP', 'SCTP'] as const;

/** apimachinery's field.TooMany wording (the cause reason is Invalid: kubus' FieldCause has no TooMany). */
function tooMany(c: Causes, field: string, actual: number, max: number): void {
  c.list.push({ reason: 'FieldValueInvalid', field, message: `Too many: ${actual}: must have at most ${max} items` });
}

function address(c: Causes, field: string, value: string, type: string | undefined): void {
  if (type === 'IPv4' && !isIPv4(value)) c.invalid(field, value, 'must be a valid IPv4 address');
  else if (type === 'IPv6' && !isIPv6(value)) c.invalid(field, value, 'must be a valid IPv6 address');
  else if (type === 'FQDN') checkName(c, field, value, dns1123Subdomain);
}

function endpoints(c: Causes, value: unknown, type: string | undefined): void {
  const list = c.objects('endpoints', value);
  if (list.length > endpointSliceLimits.endpointsMax) { tooMany(c, 'endpoints', list.length, endpointSliceLimits.endpointsMax); return; }
  for (const { item, path } of list) {
    const addresses = c.arr(`${path}.addresses`, item['addresses']);
    if (addresses === undefined || addresses.length === 0) c.required(`${path}.addresses`, 'must contain at least 1 address');
    else if (addresses.length > endpointSliceLimits.addressesMax) tooMany(c, `${path}.addresses`, addresses.length, endpointSliceLimits.addressesMax);
    else addresses.forEach((a, i) => { const s = c.str(`${path}.addresses[${i}]`, a); if (s !== undefined) address(c, `${path}.addresses[${i}]`, s, type); });
    const conditions = c.obj(`${path}.conditions`, item['conditions']);
    for (const field of ['ready', 'serving', 'terminating'] as const) c.bool(`${path}.conditions.${field}`, conditions?.[field]);
    const hostname = c.str(`${path}.hostname`, item['hostname']);
    if (hostname !== undefined && hostname !== '') checkName(c, `${path}.hostname`, hostname, dns1123Label);
    const nodeName = c.str(`${path}.nodeName`, item['nodeName']);
    if (nodeName !== undefined && nodeName !== '') checkName(c, `${path}.nodeName`, nodeName, dns1123Subdomain);
    c.obj(`${path}.targetRef`, item['targetRef']);
  }
}

function ports(c: Causes, value: unknown): void {
  const list = c.objects('ports', value);
  if (list.length > endpointSliceLimits.portsMax) { tooMany(c, 'ports', list.length, endpointSliceLimits.portsMax); return; }
  const names = new Set<string>();
  for (const { item, path } of list) {
    const name = c.str(`${path}.name`, item['name']) ?? '';
    if (name !== '') checkName(c, `${path}.name`, name, dns1123Label);
    if (names.has(name)) c.duplicate(`${path}.name`, name);
    names.add(name);
    c.oneOf(`${path}.protocol`, c.str(`${path}.protocol`, item['protocol']), protocols);
    const port = c.int(`${path}.port`, item['port']);
    if (port !== undefined && (port < 0 || port > 65535)) c.invalid(`${path}.port`, port, 'must be between 0 and 65535, inclusive');
    c.str(`${path}.appProtocol`, item['appProtocol']);
  }
}

export function validateEndpointSlice(c: Causes, object: Obj, old: Obj | null): void {
  const type = c.str('addressType', object['addressType']);
  if (type === undefined || type === '') c.required('addressType');
  else c.oneOf('addressType', type, addressTypes);
  endpoints(c, object['endpoints'], type);
  ports(c, object['ports']);
  if (old !== null && !jsonEqual(object['addressType'], old['addressType'])) c.immutable('addressType', object['addressType']);
}

export function validateStorageClass(c: Causes, object: Obj, old: Obj | null): void {
  const provisioner = c.str('provisioner', object['provisioner']);
  if (provisioner === undefined || provisioner === '') c.required('provisioner');
  else checkName(c, 'provisioner', provisioner.toLowerCase(), qualifiedName);
  c.stringMap('parameters', object['parameters']);
  c.oneOf('reclaimPolicy', c.str('reclaimPolicy', object['reclaimPolicy']), ['Delete', 'Retain']);
  const mode = c.str('volumeBindingMode', object['volumeBindingMode']);
  if (mode === undefined) c.required('volumeBindingMode');
  else c.oneOf('volumeBindingMode', mode, ['Immediate', 'WaitForFirstConsumer']);
  c.bool('allowVolumeExpansion', object['allowVolumeExpansion']);
  c.arr('mountOptions', object['mountOptions'])?.forEach((o, i) => c.str(`mountOptions[${i}]`, o));
  if (old === null) return;
  if (!jsonEqual(object['parameters'] ?? {}, old['parameters'] ?? {})) c.forbidden('parameters', 'updates to parameters are forbidden.');
  if (object['provisioner'] !== old['provisioner']) c.forbidden('provisioner', 'updates to provisioner are forbidden.');
  if (object['reclaimPolicy'] !== old['reclaimPolicy']) c.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.');
  if (object['volumeBindingMode'] !== old['volumeBindingMode']) c.immutable('volumeBindingMode', object['volumeBindingMode']);
}
