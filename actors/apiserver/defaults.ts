/**
 * Server-side defaulting, as the real API server applies before validation (k8s.io/api defaults for
 * 1.32, the subset kubus kinds use). Clients read these values back — `kubectl get -o yaml` shows
 * them and controllers rely on e.g. `spec.replicas` being present — so they must be filled in.
 */
import type { ResourceInfo } from './registry/resources.js';
import type { KubeObject } from './types.js';

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets `obj[key]` only when absent (undefined); null is left alone since it is a client's explicit value. */
function setDefault(obj: Obj, key: string, value: unknown): void {
  if (obj[key] === undefined) obj[key] = value;
}

/** The map at `obj[key]`, created when absent; undefined when the field holds a non-map (validation reports it). */
function child(obj: Obj, key: string): Obj | undefined {
  if (obj[key] === undefined) obj[key] = {};
  const value = obj[key];
  return isObj(value) ? value : undefined;
}

function each(list: unknown, fn: (item: Obj) => void): void {
  if (Array.isArray(list)) for (const item of list) if (isObj(item)) fn(item);
}

/** `latest` or untagged images are pulled always, pinned ones only if not present (PullPolicy defaulting). */
export function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: Obj): void {
  setDefault(container, 'imagePullPolicy', defaultPullPolicy(container['image']));
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  setDefault(container, 'resources', {});
  each(container['ports'], (port) => setDefault(port, 'protocol', 'TCP'));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = container[probe];
    if (!isObj(p)) continue;
    setDefault(p, 'timeoutSeconds', 1);
    setDefault(p, 'periodSeconds', 10);
    setDefault(p, 'successThreshold', 1);
    setDefault(p, 'failureThreshold', 3);
  }
}

/** PodSpec defaults, shared by pods and the templates of deployments and replicasets. */
export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'enableServiceLinks', true);
  // No priority or preemptionPolicy here: Priority admission resolves them from the pod's class
  // (admission/priority.ts), and a template carrying `priority: 0` would make every pod of a class refused.
  each(spec['containers'], defaultContainer);
  each(spec['initContainers'], defaultContainer);
  each(spec['volumes'], (volume) => {
    const configMap = volume['configMap'];
    if (isObj(configMap)) setDefault(configMap, 'defaultMode', 0o644);
    const secret = volume['secret'];
    if (isObj(secret)) setDefault(secret, 'defaultMode', 0o644);
  });
}

function defaultTemplate(spec: Obj): void {
  const template = spec['template'];
  if (!isObj(template)) return;
  const podSpec = template['spec'];
  if (isObj(podSpec)) defaultPodSpec(podSpec);
}

const byKind: Readonly<Record<string, (object: Obj) => void>> = {
  'scheduling.k8s.io/PriorityClass': (object) => setDefault(object, 'preemptionPolicy', 'PreemptLowerPriority'),
  'storage.k8s.io/StorageClass': (object) => {
    setDefault(object, 'reclaimPolicy', 'Delete');
    setDefault(object, 'volumeBindingMode', 'Immediate');
  },
  '/Pod': (object) => {
    const spec = child(object, 'spec');
    if (spec !== undefined) defaultPodSpec(spec);
    // The registry starts every pod Pending (PrepareForCreate); kubectl prints the phase as STATUS.
    const status = child(object, 'status');
    if (status !== undefined) setDefault(status, 'phase', 'Pending');
  },
  'apps/Deployment': (object) => {
    const spec = child(object, 'spec');
    if (spec === undefined) return;
    setDefault(spec, 'replicas', 1);
    const strategy = child(spec, 'strategy');
    if (strategy !== undefined) {
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const rolling = child(strategy, 'rollingUpdate');
        if (rolling !== undefined) {
          setDefault(rolling, 'maxUnavailable', '25%');
          setDefault(rolling, 'maxSurge', '25%');
        }
      }
    }
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
    defaultTemplate(spec);
  },
  'apps/ReplicaSet': (object) => {
    const spec = child(object, 'spec');
    if (spec === undefined) return;
    setDefault(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  '/Service': (object) => {
    const spec = child(object, 'spec');
    if (spec === undefined) return;
    setDefault(spec, 'type', 'ClusterIP');
    setDefault(spec, 'sessionAffinity', 'None');
    if (spec['type'] !== 'ExternalName') setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    each(spec['ports'], (port) => {
      setDefault(port, 'protocol', 'TCP');
      setDefault(port, 'targetPort', port['port']);
    });
  },
  '/Secret': (object) => {
    setDefault(object, 'type', 'Opaque');
    mergeStringData(object);
  },
  '/Namespace': (object) => {
    const spec = child(object, 'spec');
    if (spec !== undefined) setDefault(spec, 'finalizers', ['kubernetes']);
    const status = child(object, 'status');
    if (status !== undefined) setDefault(status, 'phase', 'Active');
    // The real server labels every namespace with its own name so selectors can target it.
    const metadata = object['metadata'];
    if (isObj(metadata) && typeof metadata['name'] === 'string') {
      const labels = child(metadata, 'labels');
      if (labels !== undefined) labels['kubernetes.io/metadata.name'] = metadata['name'];
    }
  },
  '/PersistentVolume': (object) => {
    const spec = child(object, 'spec');
    if (spec === undefined) return;
    setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setDefault(spec, 'volumeMode', 'Filesystem');
    const status = child(object, 'status');
    if (status !== undefined) setDefault(status, 'phase', 'Pending');
  },
  '/PersistentVolumeClaim': (object) => {
    const spec = child(object, 'spec');
    if (spec !== undefined) setDefault(spec, 'volumeMode', 'Filesystem');
    const status = child(object, 'status');
    if (status !== undefined) setDefault(status, 'phase', 'Pending');
  },
  'autoscaling/HorizontalPodAutoscaler': (object) => {
    const spec = child(object, 'spec');
    if (spec !== undefined) setDefault(spec, 'minReplicas', 1);
  },
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': (object) => defaultWebhooks(object, true),
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': (object) => defaultWebhooks(object, false),
};

/**
 * `stringData` is write-only in Kubernetes: its values are base64-encoded into `data` (overriding
 * keys present in both) and the field is dropped, so it is never stored or returned as plain text.
 * A `stringData` that is not a map of strings is left for validation to refuse.
 */
function mergeStringData(secret: Obj): void {
  const stringData = secret['stringData'];
  if (stringData === undefined || stringData === null) {
    delete secret['stringData'];
    return;
  }
  if (!isObj(stringData) || !Object.values(stringData).every((value) => typeof value === 'string')) return;
  const existing = secret['data'];
  if (existing !== undefined && existing !== null && !isObj(existing)) return;
  const data = isObj(existing) ? existing : {};
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value as string, 'utf8').toString('base64');
  secret['data'] = data;
  delete secret['stringData'];
}

/** admissionregistration/v1 webhook defaults: what admission then reads back (failurePolicy Fail, 10 s timeout). */
function defaultWebhooks(object: Obj, mutating: boolean): void {
  each(object['webhooks'], (webhook) => {
    setDefault(webhook, 'failurePolicy', 'Fail');
    setDefault(webhook, 'matchPolicy', 'Equivalent');
    setDefault(webhook, 'timeoutSeconds', 10);
    setDefault(webhook, 'namespaceSelector', {});
    setDefault(webhook, 'objectSelector', {});
    if (mutating) setDefault(webhook, 'reinvocationPolicy', 'Never');
    each(webhook['rules'], (rule) => setDefault(rule, 'scope', '*'));
  });
}

/** Returns a defaulted copy of `object`; fields the client set are never overwritten. */
export function applyDefaults(info: ResourceInfo, object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  const fn = byKind[`${info.group}/${info.kind}`];
  if (fn !== undefined && isObj(copy)) fn(copy as Obj);
  return copy;
}
