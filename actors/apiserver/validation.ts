/**
 * Object validation before a write: returns the FieldCauses the API answers as 422 Invalid
 * (`apiErrors.invalid`). Pure and total: any JSON value yields causes, never an exception, because
 * this runs on untrusted request bodies. Pods and workloads are in validation-workloads.ts.
 */
import { apiVersionOf, type ResourceInfo } from './registry/resources.js';
import type { FieldCause, KubeObject } from './types.js';
import {
  Causes, checkName, checkPort, configMapKey, dns1035Label, dns1123Label, dns1123Subdomain, isObj, jsonEqual,
  labelValueCheck, pathSegmentName, portName, qualifiedName, type NameCheck, type Obj,
} from './validation-core.js';
import { parseQuantity } from '../objects/quantity.js';
import { validateLabelSelector, validatePodSpec, validatePodUpdate, validateWorkload } from './validation-workloads.js';
import { validateCertificateSigningRequest } from './validation-certificates.js';
import { validatePodDisruptionBudget, validatePriorityClass } from './validation-policy.js';
import { validateEndpointSlice, validateStorageClass } from './validation-discovery-storage.js';
import { validateService } from './services/service-validation.js';

/** Total size of all annotations (keys + values), as Kubernetes limits it. */
export const annotationsSizeMax = 256 * 1024;
/** ConfigMap and Secret payloads are limited to 1 MiB so they fit in one store value. */
export const configDataSizeMax = 1024 * 1024;

/** Which name format each kind's metadata.name must follow (apimachinery's per-kind ValidateNameFunc). */
function nameRule(info: ResourceInfo): NameCheck {
  if (info.kind === 'Namespace') return dns1123Label;
  if (info.kind === 'Service') return dns1035Label;
  if (info.group === 'rbac.authorization.k8s.io') return pathSegmentName;
  return dns1123Subdomain;
}

/** Validates `object` for a create (`old` null) or an update of `old`. */
export function validate(info: ResourceInfo, object: KubeObject, old: KubeObject | null): FieldCause[] {
  const c = new Causes();
  const raw: unknown = object;
  if (!isObj(raw)) {
    c.typeInvalid('<root>', raw, 'object');
    return c.list;
  }
  const prev = old !== null && isObj(old) ? (old as unknown as Obj) : null;
  validateTypeMeta(c, info, raw);
  validateMeta(c, info, raw, prev);
  const kindRule = kindRules[`${info.group}/${info.kind}`];
  kindRule?.(c, raw, prev);
  return c.list;
}

/** Only the wrong-JSON-type causes (e.g. `spec.replicas: "3"`), for callers that want to tell them apart. */
export function typeErrors(info: ResourceInfo, object: KubeObject): FieldCause[] {
  return validate(info, object, null).filter((cause) => cause.reason === 'FieldValueTypeInvalid');
}

function validateTypeMeta(c: Causes, info: ResourceInfo, object: Obj): void {
  const apiVersion = c.str('apiVersion', object['apiVersion']);
  const kind = c.str('kind', object['kind']);
  const expected = apiVersionOf(info);
  if (apiVersion === undefined || apiVersion === '') { if (typeof object['apiVersion'] !== 'string' || object['apiVersion'] === '') c.required('apiVersion'); }
  else if (apiVersion !== expected) c.invalid('apiVersion', apiVersion, `must be ${JSON.stringify(expected)} for this resource`);
  if (kind === undefined || kind === '') { if (typeof object['kind'] !== 'string' || object['kind'] === '') c.required('kind'); }
  else if (kind !== info.kind) c.invalid('kind', kind, `must be ${JSON.stringify(info.kind)} for this resource`);
}

function validateMeta(c: Causes, info: ResourceInfo, object: Obj, old: Obj | null): void {
  if (object['metadata'] === undefined || object['metadata'] === null) { c.required('metadata'); return; }
  const meta = c.obj('metadata', object['metadata']);
  if (meta === undefined) return;
  const rule = nameRule(info);

  const name = c.str('metadata.name', meta['name']);
  const generateName = c.str('metadata.generateName', meta['generateName']);
  if (name === undefined || name === '') {
    if (generateName === undefined || generateName === '') c.required('metadata.name', 'name or generateName is required');
    // A generated name appends 5 characters, so the prefix must be valid once something follows it.
    else for (const p of rule(`${generateName}a`)) c.invalid('metadata.generateName', generateName, p);
  } else checkName(c, 'metadata.name', name, rule);

  const namespace = c.str('metadata.namespace', meta['namespace']);
  if (info.namespaced) {
    if (namespace !== undefined && namespace !== '') checkName(c, 'metadata.namespace', namespace, dns1123Label);
  } else if (namespace !== undefined && namespace !== '') {
    c.forbidden('metadata.namespace', 'not allowed on this type');
  }

  const labels = c.stringMap('metadata.labels', meta['labels']);
  for (const [k, v] of labels ?? []) {
    checkName(c, 'metadata.labels', k, qualifiedName);
    checkName(c, 'metadata.labels', v, labelValueCheck);
  }
  const annotations = c.stringMap('metadata.annotations', meta['annotations']);
  let annotationBytes = 0;
  for (const [k, v] of annotations ?? []) {
    checkName(c, 'metadata.annotations', k.toLowerCase(), qualifiedName);
    annotationBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (annotationBytes > annotationsSizeMax) c.tooLong('metadata.annotations', annotationsSizeMax);

  const finalizers = c.arr('metadata.finalizers', meta['finalizers']);
  finalizers?.forEach((f, i) => {
    const s = c.str(`metadata.finalizers[${i}]`, f);
    if (s !== undefined) checkName(c, `metadata.finalizers[${i}]`, s, qualifiedName);
  });
  for (const { item, path } of c.objects('metadata.ownerReferences', meta['ownerReferences'])) {
    for (const field of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      const v = c.str(`${path}.${field}`, item[field]);
      if (v === undefined || v === '') c.required(`${path}.${field}`);
    }
    c.bool(`${path}.controller`, item['controller']);
    c.bool(`${path}.blockOwnerDeletion`, item['blockOwnerDeletion']);
  }
  if (Array.isArray(meta['ownerReferences']) && meta['ownerReferences'].filter((r) => isObj(r) && r['controller'] === true).length > 1) {
    c.invalid('metadata.ownerReferences', meta['ownerReferences'], 'Only one reference can have Controller set to true');
  }
  c.int('metadata.generation', meta['generation']);
  c.str('metadata.resourceVersion', meta['resourceVersion']);
  c.str('metadata.uid', meta['uid']);

  if (old !== null && isObj(old['metadata'])) {
    const oldMeta = old['metadata'];
    for (const field of ['name', 'namespace'] as const) {
      if ((meta[field] ?? '') !== (oldMeta[field] ?? '')) c.immutable(`metadata.${field}`, meta[field]);
    }
    if (meta['uid'] !== undefined && meta['uid'] !== '' && meta['uid'] !== oldMeta['uid']) c.immutable('metadata.uid', meta['uid']);
  }
}

type KindRule = (c: Causes, object: Obj, old: Obj | null) => void;

function specOf(c: Causes, object: Obj, required: boolean): Obj | undefined {
  if (object['spec'] === undefined || object['spec'] === null) { if (required) c.required('spec'); return undefined; }
  return c.obj('spec', object['spec']);
}

function validateData(c: Causes, object: Obj, fields: readonly string[], valueCheck?: (path: string, value: string) => void): number {
  const seen = new Set<string>();
  let bytes = 0;
  for (const field of fields) {
    const data = c.stringMap(field, object[field]);
    for (const [k, v] of data ?? []) {
      checkName(c, `${field}[${k}]`, k, configMapKey);
      if (seen.has(k) && field !== 'stringData') c.duplicate(`${field}[${k}]`, k);
      seen.add(k);
      bytes += k.length + v.length;
      valueCheck?.(`${field}[${k}]`, v);
    }
  }
  return bytes;
}

/** `immutable: true` ConfigMaps and Secrets freeze their payload and the flag itself. */
function validateImmutablePayload(c: Causes, object: Obj, old: Obj | null, fields: readonly string[]): void {
  c.bool('immutable', object['immutable']);
  if (old === null || old['immutable'] !== true) return;
  if (object['immutable'] !== true) c.forbidden('immutable', 'field is immutable when `immutable` is set');
  for (const field of fields) {
    if (!jsonEqual(object[field] ?? {}, old[field] ?? {})) c.forbidden(field, 'field is immutable when `immutable` is set');
  }
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

const kindRules: Readonly<Record<string, KindRule>> = {
  '/Pod': (c, object, old) => {
    validatePodSpec(c, object['spec'], 'spec');
    if (old !== null) validatePodUpdate(c, object['spec'], old['spec']);
  },
  'apps/Deployment': (c, object, old) => validateWorkload(c, 'Deployment', object, old),
  'apps/ReplicaSet': (c, object, old) => validateWorkload(c, 'ReplicaSet', object, old),
  '/Service': (c, object, old) => {
    const spec = specOf(c, object, true);
    if (spec !== undefined) validateService(c, spec, old);
  },
  '/ConfigMap': (c, object, old) => {
    const bytes = validateData(c, object, ['data', 'binaryData'], (path, v) => {
      if (path.startsWith('binaryData') && !base64.test(v)) c.invalid(path, '<binary>', 'must be base64 encoded');
    });
    if (bytes > configDataSizeMax) c.tooLong('data', configDataSizeMax);
    validateImmutablePayload(c, object, old, ['data', 'binaryData']);
  },
  '/Secret': (c, object, old) => {
    const bytes = validateData(c, object, ['data', 'stringData'], (path, v) => {
      if (path.startsWith('data[') && (!base64.test(v) || v.length % 4 !== 0)) c.invalid(path, '<secret contents redacted>', 'illegal base64 data');
    });
    if (bytes > configDataSizeMax) c.tooLong('data', configDataSizeMax);
    const type = c.str('type', object['type']);
    const keys = new Set([...Object.keys(isObj(object['data']) ? object['data'] : {}), ...Object.keys(isObj(object['stringData']) ? object['stringData'] : {})]);
    const requiredKeys: Record<string, string[]> = {
      'kubernetes.io/tls': ['tls.crt', 'tls.key'],
      'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
      'kubernetes.io/dockercfg': ['.dockercfg'],
      'kubernetes.io/ssh-auth': ['ssh-privatekey'],
    };
    for (const key of (type !== undefined ? requiredKeys[type] : undefined) ?? []) if (!keys.has(key)) c.required(`data[${key}]`);
    if (old !== null && (old['type'] ?? 'Opaque') !== (object['type'] ?? 'Opaque')) c.immutable('type', object['type']);
    validateImmutablePayload(c, object, old, ['data', 'stringData']);
  },
  '/Namespace': (c, object) => {
    const spec = specOf(c, object, false);
    c.arr('spec.finalizers', spec?.['finalizers'])?.forEach((f, i) => c.str(`spec.finalizers[${i}]`, f));
  },
  '/Node': (c, object) => {
    const spec = specOf(c, object, false);
    if (spec === undefined) return;
    c.bool('spec.unschedulable', spec['unschedulable']);
    c.str('spec.podCIDR', spec['podCIDR']);
    c.str('spec.providerID', spec['providerID']);
    for (const { item, path } of c.objects('spec.taints', spec['taints'])) {
      const key = c.str(`${path}.key`, item['key']);
      if (key === undefined || key === '') c.required(`${path}.key`);
      else checkName(c, `${path}.key`, key, qualifiedName);
      const value = c.str(`${path}.value`, item['value']);
      if (value !== undefined) checkName(c, `${path}.value`, value, labelValueCheck);
      const effect = c.str(`${path}.effect`, item['effect']);
      if (effect === undefined || effect === '') c.required(`${path}.effect`);
      c.oneOf(`${path}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
    }
  },
  '/Event': (c, object) => {
    const involved = c.obj('involvedObject', object['involvedObject']);
    if (involved === undefined && (object['involvedObject'] === undefined || object['involvedObject'] === null)) c.required('involvedObject');
    for (const field of ['reason', 'message', 'type', 'reportingComponent', 'reportingInstance'] as const) c.str(field, object[field]);
    c.oneOf('type', typeof object['type'] === 'string' && object['type'] !== '' ? object['type'] : undefined, ['Normal', 'Warning']);
    const count = c.int('count', object['count']);
    if (count !== undefined && count < 0) c.invalid('count', count, 'must be greater than or equal to 0');
  },
  '/Endpoints': (c, object) => {
    for (const { item, path } of c.objects('subsets', object['subsets'])) {
      for (const { item: a, path: ap } of [...c.objects(`${path}.addresses`, item['addresses']), ...c.objects(`${path}.notReadyAddresses`, item['notReadyAddresses'])]) {
        const ip = c.str(`${ap}.ip`, a['ip']);
        if (ip === undefined || ip === '') c.required(`${ap}.ip`);
      }
      for (const { item: p, path: pp } of c.objects(`${path}.ports`, item['ports'])) checkPort(c, `${pp}.port`, p['port']);
    }
  },
  'coordination.k8s.io/Lease': (c, object) => {
    const spec = specOf(c, object, false);
    if (spec === undefined) return;
    c.str('spec.holderIdentity', spec['holderIdentity']);
    const duration = c.int('spec.leaseDurationSeconds', spec['leaseDurationSeconds']);
    if (duration !== undefined && duration <= 0) c.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0');
    const transitions = c.int('spec.leaseTransitions', spec['leaseTransitions']);
    if (transitions !== undefined && transitions < 0) c.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0');
    c.str('spec.acquireTime', spec['acquireTime']);
    c.str('spec.renewTime', spec['renewTime']);
  },
  '/PersistentVolumeClaim': (c, object, old) => {
    const spec = specOf(c, object, true);
    if (spec === undefined) return;
    accessModes(c, spec);
    const resources = c.obj('spec.resources', spec['resources']);
    const requests = c.obj('spec.resources.requests', resources?.['requests']);
    if (requests?.['storage'] === undefined) c.required('spec.resources.requests[storage]');
    c.str('spec.storageClassName', spec['storageClassName']);
    if (old !== null && isObj(old['spec'])) {
      // Retroactive default StorageClass (Kubernetes 1.28): a claim without a class may be given one.
      const classUnset = old['spec']['storageClassName'] === undefined;
      const strip = (s: Obj): Obj => ({ ...s, resources: undefined, volumeName: undefined, volumeAttributesClassName: undefined, ...(classUnset ? { storageClassName: undefined } : {}) });
      if (!jsonEqual(strip(spec), strip(old['spec']))) c.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
    }
    validateLabelSelector(c, spec['selector'], 'spec.selector');
  },
  '/PersistentVolume': (c, object) => {
    const spec = specOf(c, object, true);
    if (spec === undefined) return;
    accessModes(c, spec);
    const capacity = c.obj('spec.capacity', spec['capacity']);
    if (capacity?.['storage'] === undefined) c.required('spec.capacity');
    c.oneOf('spec.persistentVolumeReclaimPolicy', c.str('spec.persistentVolumeReclaimPolicy', spec['persistentVolumeReclaimPolicy']), ['Retain', 'Delete', 'Recycle']);
  },
  'autoscaling/HorizontalPodAutoscaler': (c, object) => {
    const spec = specOf(c, object, true);
    if (spec === undefined) return;
    const ref = c.obj('spec.scaleTargetRef', spec['scaleTargetRef']);
    if (ref === undefined) { if (spec['scaleTargetRef'] === undefined || spec['scaleTargetRef'] === null) c.required('spec.scaleTargetRef'); }
    else for (const field of ['kind', 'name'] as const) {
      const v = c.str(`spec.scaleTargetRef.${field}`, ref[field]);
      if (v === undefined || v === '') c.required(`spec.scaleTargetRef.${field}`);
    }
    const min = c.int('spec.minReplicas', spec['minReplicas']);
    const max = c.int('spec.maxReplicas', spec['maxReplicas']);
    if (spec['maxReplicas'] === undefined || spec['maxReplicas'] === null) c.required('spec.maxReplicas');
    if (min !== undefined && min < 1) c.invalid('spec.minReplicas', min, 'must be greater than or equal to 1');
    if (max !== undefined && max < 1) c.invalid('spec.maxReplicas', max, 'must be greater than or equal to 1');
    if (min !== undefined && max !== undefined && max < min) c.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`');
    const target = c.int('spec.targetCPUUtilizationPercentage', spec['targetCPUUtilizationPercentage']);
    if (target !== undefined && target < 1) c.invalid('spec.targetCPUUtilizationPercentage', target, 'must be greater than or equal to 1');
    c.arr('spec.metrics', spec['metrics']);
  },
  'rbac.authorization.k8s.io/Role': (c, object) => validateRules(c, object),
  'rbac.authorization.k8s.io/ClusterRole': (c, object) => validateRules(c, object),
  'rbac.authorization.k8s.io/RoleBinding': (c, object, old) => validateBinding(c, object, old, ['Role', 'ClusterRole']),
  'rbac.authorization.k8s.io/ClusterRoleBinding': (c, object, old) => validateBinding(c, object, old, ['ClusterRole']),
  'certificates.k8s.io/CertificateSigningRequest': validateCertificateSigningRequest,
  'scheduling.k8s.io/PriorityClass': validatePriorityClass,
  'policy/PodDisruptionBudget': (c, object) => validatePodDisruptionBudget(c, object),
  'discovery.k8s.io/EndpointSlice': validateEndpointSlice,
  'storage.k8s.io/StorageClass': validateStorageClass,
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': (c, object) => validateWebhooks(c, object),
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': (c, object) => validateWebhooks(c, object),
  '/ResourceQuota': (c, object) => quantities(c, 'spec.hard', c.obj('spec', object['spec'])?.['hard']),
  '/LimitRange': (c, object) => {
    for (const { item, path } of c.objects('spec.limits', c.obj('spec', object['spec'])?.['limits'])) {
      const type = c.str(`${path}.type`, item['type']);
      if (type === undefined) c.required(`${path}.type`);
      c.oneOf(`${path}.type`, type, ['Container', 'Pod', 'PersistentVolumeClaim']);
      for (const field of ['default', 'defaultRequest', 'max', 'min', 'maxLimitRequestRatio']) quantities(c, `${path}.${field}`, item[field]);
    }
  },
};

/**
 * Webhook configurations, the fields admission relies on. sideEffects also accepts v1beta1's
 * Some/Unknown (Kubernetes v1 refuses them) so that the dry-run refusal stays reachable.
 */
function validateWebhooks(c: Causes, object: Obj): void {
  const names = new Set<string>();
  for (const { item, path } of c.objects('webhooks', object['webhooks'])) {
    const name = c.str(`${path}.name`, item['name']);
    if (name === undefined || name === '') c.required(`${path}.name`);
    else if (names.has(name)) c.duplicate(`${path}.name`, name);
    else names.add(name);
    const client = c.obj(`${path}.clientConfig`, item['clientConfig']);
    if (client === undefined) c.required(`${path}.clientConfig`);
    else if ((client['url'] === undefined) === (client['service'] === undefined)) c.required(`${path}.clientConfig`, 'exactly one of url or service is required');
    else if (client['url'] !== undefined && !(c.str(`${path}.clientConfig.url`, client['url']) ?? '').startsWith('https://')) {
      c.invalid(`${path}.clientConfig.url`, client['url'], "'https' is the only allowed URL scheme");
    }
    c.oneOf(`${path}.failurePolicy`, c.str(`${path}.failurePolicy`, item['failurePolicy']), ['Fail', 'Ignore']);
    const sideEffects = c.str(`${path}.sideEffects`, item['sideEffects']);
    if (sideEffects === undefined) c.required(`${path}.sideEffects`);
    c.oneOf(`${path}.sideEffects`, sideEffects, ['None', 'NoneOnDryRun', 'Some', 'Unknown']);
    const timeout = c.int(`${path}.timeoutSeconds`, item['timeoutSeconds']);
    if (timeout !== undefined && (timeout < 1 || timeout > 30)) c.invalid(`${path}.timeoutSeconds`, timeout, 'the timeout value must be between 1 and 30 seconds');
    for (const rule of c.objects(`${path}.rules`, item['rules'])) {
      c.oneOf(`${rule.path}.scope`, c.str(`${rule.path}.scope`, rule.item['scope']), ['Cluster', 'Namespaced', '*']);
    }
  }
}

/** A map of resource name to quantity (`cpu: 500m`, `pods: "10"`), as quotas and limit ranges hold. */
function quantities(c: Causes, field: string, value: unknown): void {
  // A quantity may be written as a JSON number (`pods: 2`) or a string (`cpu: 500m`), as Kubernetes decodes it.
  for (const [name, text] of Object.entries(c.obj(field, value) ?? {})) {
    if (parseQuantity(text) === undefined) c.invalid(`${field}[${name}]`, text, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  }
}

function accessModes(c: Causes, spec: Obj): void {
  const modes = c.arr('spec.accessModes', spec['accessModes']);
  if (modes === undefined || modes.length === 0) { c.required('spec.accessModes'); return; }
  modes.forEach((m, i) => c.oneOf(`spec.accessModes[${i}]`, c.str(`spec.accessModes[${i}]`, m), ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod']));
}

function validateRules(c: Causes, object: Obj): void {
  for (const { item, path } of c.objects('rules', object['rules'])) {
    const verbs = c.arr(`${path}.verbs`, item['verbs']);
    if (verbs === undefined || verbs.length === 0) c.required(`${path}.verbs`, 'verbs must contain at least one value');
    verbs?.forEach((v, i) => c.str(`${path}.verbs[${i}]`, v));
    for (const field of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
      c.arr(`${path}.${field}`, item[field])?.forEach((v, i) => c.str(`${path}.${field}[${i}]`, v));
    }
    if (Array.isArray(item['resources']) && item['resources'].length > 0 && !Array.isArray(item['apiGroups'])) {
      c.required(`${path}.apiGroups`, 'resource rules must supply at least one api group');
    }
  }
  c.obj('aggregationRule', object['aggregationRule']);
}

function validateBinding(c: Causes, object: Obj, old: Obj | null, roleKinds: readonly string[]): void {
  const ref = c.obj('roleRef', object['roleRef']);
  if (ref === undefined) { if (object['roleRef'] === undefined || object['roleRef'] === null) c.required('roleRef'); }
  else {
    const apiGroup = c.str('roleRef.apiGroup', ref['apiGroup']);
    if (apiGroup !== undefined && apiGroup !== 'rbac.authorization.k8s.io') c.notSupported('roleRef.apiGroup', apiGroup, ['rbac.authorization.k8s.io']);
    const kind = c.str('roleRef.kind', ref['kind']);
    if (kind === undefined || kind === '') c.required('roleRef.kind');
    else c.oneOf('roleRef.kind', kind, roleKinds);
    const name = c.str('roleRef.name', ref['name']);
    if (name === undefined || name === '') c.required('roleRef.name');
  }
  for (const { item, path } of c.objects('subjects', object['subjects'])) {
    const kind = c.str(`${path}.kind`, item['kind']);
    if (kind === undefined || kind === '') c.required(`${path}.kind`);
    else c.oneOf(`${path}.kind`, kind, ['ServiceAccount', 'User', 'Group']);
    const name = c.str(`${path}.name`, item['name']);
    if (name === undefined || name === '') c.required(`${path}.name`);
    if (kind === 'ServiceAccount') {
      const ns = c.str(`${path}.namespace`, item['namespace']);
      if ((ns === undefined || ns === '') && roleKinds.length === 1) c.required(`${path}.namespace`);
    }
  }
  if (old !== null && !jsonEqual(object['roleRef'], old['roleRef'])) c.immutable('roleRef', object['roleRef']);
}
