/**
 * Per-kind table printers: the column sets and cell wording of kubectl 1.32's server-side printers
 * (pkg/printers/internalversion/printers.go), for the kinds kubus serves. Cells read raw stored
 * JSON defensively: any field may be missing or of the wrong type.
 */
import { age } from './table-age.js';
import { certificateSigningRequestPrinter } from './table-printers-certificates.js';
import { endpointSlicePrinter, podDisruptionBudgetPrinter, priorityClassPrinter, storageClassPrinter } from './table-printers-policy.js';
import type { KubeObject } from './types.js';

export interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export interface Printer {
  readonly columns: readonly Column[];
  cells(object: KubeObject, now: number): unknown[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const orNone = (s: string): string => (s === '' ? '<none>' : s);

function col(name: string, type: Column['type'] = 'string', description = '', priority = 0, format = ''): Column {
  return { name, type, format, description, priority };
}
const nameCol = col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name');
const ageCol = col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const wide = (name: string, description = ''): Column => col(name, 'string', description, 1);

const name = (o: KubeObject): string => str(o.metadata?.name);
const created = (o: KubeObject, now: number): string => age(o.metadata?.creationTimestamp, now);

/** `metav1.FormatLabelSelector`: `app=web,tier in (a,b)`, `<none>` when empty. */
export function formatSelector(value: unknown): string {
  const selector = obj(value);
  const parts = Object.entries(obj(selector['matchLabels'])).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${str(v)}`);
  for (const e of list(selector['matchExpressions']).map(obj)) {
    const key = str(e['key']);
    const values = list(e['values']).map(str).sort().join(',');
    switch (e['operator']) {
      case 'In': parts.push(`${key} in (${values})`); break;
      case 'NotIn': parts.push(`${key} notin (${values})`); break;
      case 'Exists': parts.push(key); break;
      case 'DoesNotExist': parts.push(`!${key}`); break;
      default: break;
    }
  }
  return orNone(parts.join(','));
}

/** A plain `key=value` map as a selector (services). */
function formatMap(value: unknown): string {
  return orNone(Object.entries(obj(value)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${str(v)}`).join(','));
}

function podCells(o: KubeObject, now: number): unknown[] {
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  const total = list(spec['containers']).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason = str(status['reason']) !== '' ? str(status['reason']) : str(status['phase']);
  const noteRestart = (cs: Obj): void => {
    restarts += int(cs['restartCount']);
    const finished = Date.parse(str(obj(obj(cs['lastState'])['terminated'])['finishedAt']));
    if (!Number.isNaN(finished) && finished > lastRestart) lastRestart = finished;
  };
  let initializing = false;
  const initStatuses = list(status['initContainerStatuses']).map(obj);
  const initCount = list(spec['initContainers']).length;
  for (const [i, cs] of initStatuses.entries()) {
    noteRestart(cs);
    const state = obj(cs['state']);
    const terminated = state['terminated'] === undefined ? undefined : obj(state['terminated']);
    const waiting = state['waiting'] === undefined ? undefined : obj(state['waiting']);
    if (terminated !== undefined && int(terminated['exitCode']) === 0) continue;
    if (terminated !== undefined) {
      reason = str(terminated['reason']) !== '' ? `Init:${str(terminated['reason'])}`
        : int(terminated['signal']) !== 0 ? `Init:Signal:${int(terminated['signal'])}` : `Init:ExitCode:${int(terminated['exitCode'])}`;
    } else if (waiting !== undefined && str(waiting['reason']) !== '' && waiting['reason'] !== 'PodInitializing') {
      reason = `Init:${str(waiting['reason'])}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    for (const cs of list(status['containerStatuses']).map(obj).reverse()) {
      noteRestart(cs);
      const state = obj(cs['state']);
      const waiting = obj(state['waiting']);
      const terminated = state['terminated'] === undefined ? undefined : obj(state['terminated']);
      if (str(waiting['reason']) !== '') reason = str(waiting['reason']);
      else if (terminated !== undefined && str(terminated['reason']) !== '') reason = str(terminated['reason']);
      else if (terminated !== undefined) {
        reason = int(terminated['signal']) !== 0 ? `Signal:${int(terminated['signal'])}` : `ExitCode:${int(terminated['exitCode'])}`;
      } else if (cs['ready'] === true && state['running'] !== undefined) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const readyCondition = list(status['conditions']).map(obj).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
      reason = readyCondition ? 'Running' : 'NotReady';
    }
  }
  if (o.metadata?.deletionTimestamp !== undefined) reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  const ips = list(status['podIPs']).map((p) => str(obj(p)['ip'])).filter((ip) => ip !== '');
  const ip = ips[0] ?? str(status['podIP']);
  const gates = list(spec['readinessGates']).map(obj);
  const gateText = gates.length === 0 ? '<none>'
    : `${gates.filter((g) => list(status['conditions']).map(obj).some((c) => c['type'] === g['conditionType'] && c['status'] === 'True')).length}/${gates.length}`;
  return [name(o), `${ready}/${total}`, reason, restartText, created(o, now),
    orNone(ip), orNone(str(spec['nodeName'])), orNone(str(status['nominatedNodeName'])), gateText];
}

function templateContainers(o: KubeObject): [string, string] {
  const containers = list(obj(obj(obj(o['spec'])['template'])['spec'])['containers']).map(obj);
  return [containers.map((c) => str(c['name'])).join(','), containers.map((c) => str(c['image'])).join(',')];
}

function serviceExternalIP(spec: Obj, status: Obj): string {
  const externalIPs = list(spec['externalIPs']).map(str);
  switch (spec['type']) {
    case 'ExternalName': return str(spec['externalName']);
    case 'LoadBalancer': {
      const ingress = list(obj(status['loadBalancer'])['ingress']).map(obj).map((i) => str(i['ip']) || str(i['hostname'])).filter((s) => s !== '');
      const all = [...ingress, ...externalIPs];
      return all.length === 0 ? '<pending>' : all.join(',');
    }
    default: return orNone(externalIPs.join(','));
  }
}

function servicePorts(spec: Obj): string {
  const ports = list(spec['ports']).map(obj).map((p) => {
    const protocol = str(p['protocol']) || 'TCP';
    return int(p['nodePort']) !== 0 ? `${int(p['port'])}:${int(p['nodePort'])}/${protocol}` : `${int(p['port'])}/${protocol}`;
  });
  return orNone(ports.join(','));
}

function nodeStatus(o: KubeObject): string {
  const ready = list(obj(o['status'])['conditions']).map(obj).find((c) => c['type'] === 'Ready');
  const base = ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : 'NotReady';
  return obj(o['spec'])['unschedulable'] === true ? `${base},SchedulingDisabled` : base;
}

function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj(o.metadata?.labels))) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && str(v) !== '') roles.add(str(v));
  }
  return orNone([...roles].sort().join(','));
}

function nodeAddress(o: KubeObject, type: string): string {
  return orNone(list(obj(o['status'])['addresses']).map(obj).filter((a) => a['type'] === type).map((a) => str(a['address']))[0] ?? '');
}

function endpointsText(o: KubeObject): string {
  const all: string[] = [];
  for (const subset of list(o['subsets']).map(obj)) {
    const ports = list(subset['ports']).map(obj);
    for (const address of list(subset['addresses']).map(obj)) {
      if (ports.length === 0) all.push(str(address['ip']));
      for (const port of ports) all.push(`${str(address['ip'])}:${int(port['port'])}`);
    }
  }
  if (all.length === 0) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

const accessModeShort: Readonly<Record<string, string>> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const modes = (v: unknown): string => list(v).map((m) => accessModeShort[str(m)] ?? str(m)).join(',');

function eventCells(o: KubeObject, now: number): unknown[] {
  const involved = obj(o['involvedObject']);
  const source = obj(o['source']);
  const eventTime = str(o['eventTime']);
  const first = str(o['firstTimestamp']) || eventTime || str(o.metadata?.creationTimestamp);
  const last = str(o['lastTimestamp']) || eventTime || first;
  const count = int(o['count']);
  const series = obj(o['series']);
  const total = count > 1 ? count : int(series['count']);
  const lastSeen = total > 1 ? `${age(last, now)} (x${total} over ${age(first, now)})` : age(last, now);
  const component = str(source['component']) || str(o['reportingComponent']);
  const sourceText = str(source['host']) !== '' ? `${component}, ${str(source['host'])}` : component;
  return [lastSeen, str(o['type']), str(o['reason']), `${str(involved['kind']).toLowerCase()}/${str(involved['name'])}`,
    str(o['message']), str(involved['fieldPath']), sourceText, age(first, now), total > 0 ? total : 1, name(o)];
}

function hpaTargets(o: KubeObject): string {
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  if (spec['targetCPUUtilizationPercentage'] !== undefined) {
    const current = status['currentCPUUtilizationPercentage'];
    return `cpu: ${typeof current === 'number' ? `${current}%` : '<unknown>'}/${int(spec['targetCPUUtilizationPercentage'])}%`;
  }
  const metrics = list(spec['metrics']).map(obj);
  if (metrics.length === 0) return '<none>';
  const currents = list(status['currentMetrics']).map(obj);
  return metrics.map((m) => {
    if (m['type'] !== 'Resource') return `${str(m['type']).toLowerCase()}: <unsupported>`;
    const resource = obj(m['resource']);
    const target = obj(resource['target']);
    const current = obj(obj(currents.find((c) => c['type'] === 'Resource' && obj(c['resource'])['name'] === resource['name'])?.['resource'])['current']);
    if (target['averageUtilization'] !== undefined) {
      const cur = typeof current['averageUtilization'] === 'number' ? `${current['averageUtilization']}%` : '<unknown>';
      return `${str(resource['name'])}: ${cur}/${int(target['averageUtilization'])}%`;
    }
    return `${str(resource['name'])}: ${str(current['averageValue']) || '<unknown>'}/${str(target['averageValue']) || str(target['value'])}`;
  }).join(', ');
}

function bindingCells(o: KubeObject, now: number): unknown[] {
  const ref = obj(o['roleRef']);
  const subjects = list(o['subjects']).map(obj);
  const of = (kind: string): string => subjects.filter((s) => s['kind'] === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s['namespace'])}:${str(s['name'])}` : str(s['name']))).join(', ');
  return [name(o), `${str(ref['kind'])}/${str(ref['name'])}`, created(o, now), of('User'), of('Group'), of('ServiceAccount')];
}

const bindingPrinter: Printer = {
  columns: [nameCol, col('Role', 'string', 'RoleRef is the reference to the role.'), ageCol, wide('Users'), wide('Groups'), wide('ServiceAccounts')],
  cells: bindingCells,
};

const webhookPrinter: Printer = {
  columns: [nameCol, col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks.'), ageCol],
  cells: (o, now) => [name(o), list(o['webhooks']).length, created(o, now)],
};

/** Printers by `group/Kind`. */
export const printers: Readonly<Record<string, Printer>> = {
  '/Pod': {
    columns: [nameCol, col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      ageCol, wide('IP', 'IP address allocated to the pod.'), wide('Node', 'Name of the node the pod is assigned to.'),
      wide('Nominated Node', 'Name of the node where the pod is nominated to run.'), wide('Readiness Gates', 'The readiness gates of the pod.')],
    cells: podCells,
  },
  '/Node': {
    columns: [nameCol, col('Status', 'string', 'The status of the node'), col('Roles', 'string', 'The roles of the node'), ageCol,
      col('Version', 'string', 'Kubelet Version reported by the node.'), wide('Internal-IP'), wide('External-IP'), wide('OS-Image'),
      wide('Kernel-Version'), wide('Container-Runtime')],
    cells: (o, now) => {
      const info = obj(obj(o['status'])['nodeInfo']);
      return [name(o), nodeStatus(o), nodeRoles(o), created(o, now), str(info['kubeletVersion']), nodeAddress(o, 'InternalIP'),
        nodeAddress(o, 'ExternalIP'), orNone(str(info['osImage'])) === '<none>' ? '<unknown>' : str(info['osImage']),
        orNone(str(info['kernelVersion'])) === '<none>' ? '<unknown>' : str(info['kernelVersion']),
        orNone(str(info['containerRuntimeVersion'])) === '<none>' ? '<unknown>' : str(info['containerRuntimeVersion'])];
    },
  },
  '/Namespace': {
    columns: [nameCol, col('Status', 'string', 'The status of the namespace'), ageCol],
    cells: (o, now) => [name(o), str(obj(o['status'])['phase']), created(o, now)],
  },
  '/Service': {
    columns: [nameCol, col('Type', 'string', 'The type of the service.'), col('Cluster-IP', 'string', 'The internal IP of the service.'),
      col('External-IP', 'string', 'The external IP of the service.'), col('Port(s)', 'string', 'The ports of the service.'), ageCol,
      wide('Selector', 'Route service traffic to pods with label keys and values matching this selector.')],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      return [name(o), str(spec['type']) || 'ClusterIP', orNone(str(spec['clusterIP'])), serviceExternalIP(spec, obj(o['status'])),
        servicePorts(spec), created(o, now), formatMap(spec['selector'])];
    },
  },
  '/Endpoints': {
    columns: [nameCol, col('Endpoints', 'string', 'Endpoints of the service.'), ageCol],
    cells: (o, now) => [name(o), endpointsText(o), created(o, now)],
  },
  '/ConfigMap': {
    columns: [nameCol, col('Data', 'integer', 'Data contains the configuration data.'), ageCol],
    cells: (o, now) => [name(o), Object.keys(obj(o['data'])).length + Object.keys(obj(o['binaryData'])).length, created(o, now)],
  },
  '/ResourceQuota': {
    columns: [nameCol, ageCol, col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.')],
    cells: (o, now) => {
      const hard = obj(obj(o['spec'])['hard']);
      const used = obj(obj(o['status'])['used']);
      const pairs = (limits: boolean): string => Object.keys(hard).filter((k) => k.startsWith('limits.') === limits).sort()
        .map((k) => `${k}: ${str(used[k]) || '0'}/${str(hard[k])}`).join(', ');
      return [name(o), created(o, now), pairs(false), pairs(true)];
    },
  },
  '/LimitRange': {
    columns: [nameCol, col('Created At', 'date', 'Time when the limit range was created.')],
    cells: (o) => [name(o), str(o.metadata?.creationTimestamp)],
  },
  '/Secret': {
    columns: [nameCol, col('Type', 'string', 'The type of the secret.'), col('Data', 'integer', 'The number of entries in the secret.'), ageCol],
    cells: (o, now) => [name(o), str(o['type']), Object.keys(obj(o['data'])).length, created(o, now)],
  },
  '/Event': {
    columns: [col('Last Seen', 'string', 'Time when last event occurred.'), col('Type', 'string', 'Type of this event.'),
      col('Reason', 'string', 'Reason is why the action was taken.'), col('Object', 'string', 'The object this Event is about.'),
      col('Message', 'string', 'A human-readable description of the status of this operation.'), wide('Subobject'), wide('Source'),
      wide('First Seen'), col('Count', 'integer', 'The number of times this event has occurred.', 1), col('Name', 'string', 'Name of the event.', 1, 'name')],
    cells: eventCells,
  },
  'apps/Deployment': {
    columns: [nameCol, col('Ready', 'string', 'Number of the pod with ready state'), col('Up-to-date', 'integer', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'integer', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'), ageCol,
      wide('Containers', 'Names of each container in the template.'), wide('Images', 'Images referenced by each container in the template.'),
      wide('Selector', 'Label selector for pods.')],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      const status = obj(o['status']);
      const [containers, images] = templateContainers(o);
      return [name(o), `${int(status['readyReplicas'])}/${int(spec['replicas'])}`, int(status['updatedReplicas']), int(status['availableReplicas']),
        created(o, now), containers, images, formatSelector(spec['selector'])];
    },
  },
  'apps/ReplicaSet': {
    columns: [nameCol, col('Desired', 'integer', 'Number of desired pods.'), col('Current', 'integer', 'Number of actual replicas.'),
      col('Ready', 'integer', 'Number of ready replicas.'), ageCol, wide('Containers', 'Names of each container in the template.'),
      wide('Images', 'Images referenced by each container in the template.'), wide('Selector', 'Label selector for pods.')],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      const status = obj(o['status']);
      const [containers, images] = templateContainers(o);
      return [name(o), int(spec['replicas']), int(status['replicas']), int(status['readyReplicas']), created(o, now), containers, images, formatSelector(spec['selector'])];
    },
  },
  'coordination.k8s.io/Lease': {
    columns: [nameCol, col('Holder', 'string', 'The holder of the lease.'), ageCol],
    cells: (o, now) => [name(o), str(obj(o['spec'])['holderIdentity']), created(o, now)],
  },
  '/PersistentVolume': {
    columns: [nameCol, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'),
      col('VolumeAttributesClass'), col('Reason'), ageCol, wide('VolumeMode')],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      const status = obj(o['status']);
      const claim = obj(spec['claimRef']);
      return [name(o), str(obj(spec['capacity'])['storage']), modes(spec['accessModes']), str(spec['persistentVolumeReclaimPolicy']),
        str(status['phase']), claim['name'] !== undefined ? `${str(claim['namespace'])}/${str(claim['name'])}` : '', str(spec['storageClassName']),
        str(spec['volumeAttributesClassName']) || '<unset>', str(status['reason']), created(o, now), str(spec['volumeMode']) || 'Filesystem'];
    },
  },
  '/PersistentVolumeClaim': {
    columns: [nameCol, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'),
      ageCol, wide('VolumeMode')],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      const status = obj(o['status']);
      const bound = str(spec['volumeName']) !== '';
      return [name(o), str(status['phase']), str(spec['volumeName']), bound ? str(obj(status['capacity'])['storage']) : '',
        bound ? modes(status['accessModes']) : '', str(spec['storageClassName']), str(spec['volumeAttributesClassName']) || '<unset>',
        created(o, now), str(spec['volumeMode']) || 'Filesystem'];
    },
  },
  'autoscaling/HorizontalPodAutoscaler': {
    columns: [nameCol, col('Reference', 'string', 'Reference to the target.'), col('Targets', 'string', 'The current and target metrics.'),
      col('MinPods', 'string', 'The lower limit for the number of pods.'), col('MaxPods', 'integer', 'The upper limit for the number of pods.'),
      col('Replicas', 'integer', 'Current number of replicas of pods.'), ageCol],
    cells: (o, now) => {
      const spec = obj(o['spec']);
      const ref = obj(spec['scaleTargetRef']);
      return [name(o), `${str(ref['kind'])}/${str(ref['name'])}`, hpaTargets(o),
        spec['minReplicas'] === undefined ? '<unset>' : String(int(spec['minReplicas'])), int(spec['maxReplicas']),
        int(obj(o['status'])['currentReplicas']), created(o, now)];
    },
  },
  'rbac.authorization.k8s.io/RoleBinding': bindingPrinter,
  'rbac.authorization.k8s.io/ClusterRoleBinding': bindingPrinter,
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': webhookPrinter,
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': webhookPrinter,
  'certificates.k8s.io/CertificateSigningRequest': certificateSigningRequestPrinter,
  'scheduling.k8s.io/PriorityClass': priorityClassPrinter,
  'policy/PodDisruptionBudget': podDisruptionBudgetPrinter,
  'storage.k8s.io/StorageClass': storageClassPrinter,
  'discovery.k8s.io/EndpointSlice': endpointSlicePrinter,
};
