/**
 * kubectl 1.32's columns for the kinds the control loops added: PriorityClass (printPriorityClass),
 * PodDisruptionBudget (printPodDisruptionBudget), StorageClass (printStorageClass) and
 * EndpointSlice (printEndpointSlice, with formatDiscoveryPorts / formatDiscoveryEndpoints).
 */
import { age } from './table-age.js';
import type { Column, Printer } from './table-printers.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const column = (name: string, type: Column['type'], description: string): Column => ({ name, type, format: name === 'Name' ? 'name' : '', description, priority: 0 });
const nameColumn = column('Name', 'string', 'Name must be unique within a namespace.');
const ageColumn = column('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
/** kubectl shows three items of a list, then `+ N more...`; an empty list is `<unset>`. */
const shownMax = 3;

function listWithMore(items: readonly string[]): string {
  if (items.length > shownMax) return `${items.slice(0, shownMax).join(',')} + ${items.length - shownMax} more...`;
  return items.length === 0 ? '<unset>' : items.join(',');
}

export const priorityClassPrinter: Printer = {
  columns: [nameColumn, column('Value', 'integer', 'value represents the integer value of this priority class.'),
    column('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    ageColumn, column('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.')],
  cells: (o, now) => [str(o.metadata?.name), int(o['value']), o['globalDefault'] === true, age(o.metadata?.creationTimestamp, now), str(o['preemptionPolicy'])],
};

export const podDisruptionBudgetPrinter: Printer = {
  columns: [nameColumn, column('Min Available', 'string', 'The minimum number of pods that must be available simultaneously.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable simultaneously.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'), ageColumn],
  cells: (o, now) => {
    const spec = obj(o['spec']);
    const intOrString = (v: unknown): string => (v === undefined || v === null ? 'N/A' : str(v));
    return [str(o.metadata?.name), intOrString(spec['minAvailable']), intOrString(spec['maxUnavailable']),
      int(obj(o['status'])['disruptionsAllowed']), age(o.metadata?.creationTimestamp, now)];
  },
};

const defaultClassAnnotations = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

export const storageClassPrinter: Printer = {
  columns: [nameColumn, column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    column('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    column('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'), ageColumn],
  cells: (o, now) => {
    const annotations = o.metadata?.annotations ?? {};
    const isDefault = defaultClassAnnotations.some((a) => annotations[a] === 'true');
    const reclaim = str(o['reclaimPolicy']);
    const mode = str(o['volumeBindingMode']);
    return [`${str(o.metadata?.name)}${isDefault ? ' (default)' : ''}`, str(o['provisioner']), reclaim === '' ? 'Delete' : reclaim,
      mode === '' ? 'Immediate' : mode, o['allowVolumeExpansion'] === true ? 'true' : 'false', age(o.metadata?.creationTimestamp, now)];
  },
};

export const endpointSlicePrinter: Printer = {
  columns: [nameColumn, column('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    column('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'), ageColumn],
  cells: (o, now) => {
    const ports = list(o['ports']).map(obj).map((p) => (typeof p['port'] === 'number' ? String(p['port']) : str(p['name']) !== '' ? str(p['name']) : '*'));
    const addresses = list(o['endpoints']).map(obj).flatMap((e) => list(e['addresses']).map(str));
    return [str(o.metadata?.name), str(o['addressType']), listWithMore(ports), listWithMore(addresses), age(o.metadata?.creationTimestamp, now)];
  },
};
