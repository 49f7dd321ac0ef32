/**
 * Validation of pods and of the workloads that embed a pod template (deployments, replicasets):
 * the subset of k8s.io/kubernetes/pkg/apis/core/validation that catches the mistakes people make
 * in manifests (missing image, duplicate names, a selector that does not match the template).
 */
import { selectorMatches as matchesStructured, type StructuredLabelSelector } from '../objects/labels.js';
import {
  Causes, checkName, checkPort, dns1123Label, dns1123Subdomain, isObj, jsonEqual, portName, qualifiedName, labelValueCheck,
  type Obj,
} from './validation-core.js';

const protocols = ['TCP', 'UDP', 'SCTP'] as const;
const pullPolicies = ['Always', 'IfNotPresent', 'Never'] as const;
const restartPolicies = ['Always', 'OnFailure', 'Never'] as const;
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

function validateContainer(c: Causes, item: Obj, path: string, volumeNames: Set<string>, names: Set<string>): void {
  const name = c.str(`${path}.name`, item['name']);
  if (name === undefined || name === '') c.required(`${path}.name`);
  else {
    checkName(c, `${path}.name`, name, dns1123Label);
    if (names.has(name)) c.duplicate(`${path}.name`, name);
    names.add(name);
  }
  const image = c.str(`${path}.image`, item['image']);
  if (image === undefined || image.trim() === '') c.required(`${path}.image`);
  c.oneOf(`${path}.imagePullPolicy`, c.str(`${path}.imagePullPolicy`, item['imagePullPolicy']), pullPolicies);
  for (const field of ['command', 'args'] as const) {
    const list = c.arr(`${path}.${field}`, item[field]);
    list?.forEach((v, i) => c.str(`${path}.${field}[${i}]`, v));
  }
  c.str(`${path}.workingDir`, item['workingDir']);

  const portNames = new Set<string>();
  for (const { item: port, path: p } of c.objects(`${path}.ports`, item['ports'])) {
    if (port['containerPort'] === undefined) c.required(`${p}.containerPort`);
    else checkPort(c, `${p}.containerPort`, port['containerPort']);
    if (port['hostPort'] !== undefined && port['hostPort'] !== 0) checkPort(c, `${p}.hostPort`, port['hostPort']);
    c.oneOf(`${p}.protocol`, c.str(`${p}.protocol`, port['protocol']), protocols);
    const pn = c.str(`${p}.name`, port['name']);
    if (pn !== undefined && pn !== '') {
      checkName(c, `${p}.name`, pn, portName);
      if (portNames.has(pn)) c.duplicate(`${p}.name`, pn);
      portNames.add(pn);
    }
  }
  for (const { item: env, path: p } of c.objects(`${path}.env`, item['env'])) {
    const en = c.str(`${p}.name`, env['name']);
    if (en === undefined || en === '') c.required(`${p}.name`);
    c.str(`${p}.value`, env['value']);
    c.obj(`${p}.valueFrom`, env['valueFrom']);
  }
  const mountPaths = new Set<string>();
  for (const { item: mount, path: p } of c.objects(`${path}.volumeMounts`, item['volumeMounts'])) {
    const mn = c.str(`${p}.name`, mount['name']);
    if (mn === undefined || mn === '') c.required(`${p}.name`);
    else if (!volumeNames.has(mn)) c.notFound(`${p}.name`, mn);
    const mp = c.str(`${p}.mountPath`, mount['mountPath']);
    if (mp === undefined || mp === '') c.required(`${p}.mountPath`);
    else {
      if (mountPaths.has(mp)) c.invalid(`${p}.mountPath`, mp, 'must be unique');
      mountPaths.add(mp);
    }
    c.bool(`${p}.readOnly`, mount['readOnly']);
  }
  c.obj(`${path}.resources`, item['resources']);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = c.obj(`${path}.${probe}`, item[probe]);
    if (p === undefined) continue;
    for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
      const n = c.int(`${path}.${probe}.${field}`, p[field]);
      if (n !== undefined && n < 0) c.invalid(`${path}.${probe}.${field}`, n, 'must be greater than or equal to 0');
    }
  }
}

/** A PodSpec at `path` (`spec` for pods, `spec.template.spec` for workloads). */
export function validatePodSpec(c: Causes, value: unknown, path: string, opts: { templateOf?: string } = {}): void {
  if (value === undefined || value === null) { c.required(path); return; }
  const spec = c.obj(path, value);
  if (spec === undefined) return;

  const volumeNames = new Set<string>();
  for (const { item, path: p } of c.objects(`${path}.volumes`, spec['volumes'])) {
    const vn = c.str(`${p}.name`, item['name']);
    if (vn === undefined || vn === '') { c.required(`${p}.name`); continue; }
    checkName(c, `${p}.name`, vn, dns1123Label);
    if (volumeNames.has(vn)) c.duplicate(`${p}.name`, vn);
    volumeNames.add(vn);
  }

  const names = new Set<string>();
  if (spec['containers'] === undefined || spec['containers'] === null) c.required(`${path}.containers`);
  else {
    const containers = c.objects(`${path}.containers`, spec['containers']);
    if (Array.isArray(spec['containers']) && spec['containers'].length === 0) c.required(`${path}.containers`);
    for (const { item, path: p } of containers) validateContainer(c, item, p, volumeNames, names);
  }
  for (const { item, path: p } of c.objects(`${path}.initContainers`, spec['initContainers'])) validateContainer(c, item, p, volumeNames, names);

  const restart = c.str(`${path}.restartPolicy`, spec['restartPolicy']);
  if (opts.templateOf !== undefined) c.oneOf(`${path}.restartPolicy`, restart, ['Always']);
  else c.oneOf(`${path}.restartPolicy`, restart, restartPolicies);
  c.oneOf(`${path}.dnsPolicy`, c.str(`${path}.dnsPolicy`, spec['dnsPolicy']), dnsPolicies);
  const grace = c.int(`${path}.terminationGracePeriodSeconds`, spec['terminationGracePeriodSeconds']);
  if (grace !== undefined && grace < 0) c.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0');
  const deadline = c.int(`${path}.activeDeadlineSeconds`, spec['activeDeadlineSeconds']);
  if (deadline !== undefined && deadline <= 0) c.invalid(`${path}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive');
  const nodeName = c.str(`${path}.nodeName`, spec['nodeName']);
  if (nodeName !== undefined && nodeName !== '') checkName(c, `${path}.nodeName`, nodeName, dns1123Subdomain);
  const serviceAccount = c.str(`${path}.serviceAccountName`, spec['serviceAccountName']);
  if (serviceAccount !== undefined && serviceAccount !== '') checkName(c, `${path}.serviceAccountName`, serviceAccount, dns1123Subdomain);
  c.str(`${path}.schedulerName`, spec['schedulerName']);
  c.int(`${path}.priority`, spec['priority']);
  c.bool(`${path}.hostNetwork`, spec['hostNetwork']);
  const nodeSelector = c.stringMap(`${path}.nodeSelector`, spec['nodeSelector']);
  for (const [k, v] of nodeSelector ?? []) {
    checkName(c, `${path}.nodeSelector`, k, qualifiedName);
    checkName(c, `${path}.nodeSelector`, v, labelValueCheck);
  }
  for (const { item, path: p } of c.objects(`${path}.tolerations`, spec['tolerations'])) {
    const op = c.str(`${p}.operator`, item['operator']);
    c.oneOf(`${p}.operator`, op, ['Equal', 'Exists']);
    const key = c.str(`${p}.key`, item['key']);
    if (key !== undefined && key !== '') checkName(c, `${p}.key`, key, qualifiedName);
    if (op === 'Exists' && typeof item['value'] === 'string' && item['value'] !== '') c.invalid(`${p}.operator`, op, 'value must be empty when `operator` is \'Exists\'');
    c.oneOf(`${p}.effect`, c.str(`${p}.effect`, item['effect']), taintEffects);
    c.int(`${p}.tolerationSeconds`, item['tolerationSeconds']);
  }
  c.obj(`${path}.affinity`, spec['affinity']);
  c.obj(`${path}.securityContext`, spec['securityContext']);
}

/** Pod updates may only change images, activeDeadlineSeconds and add tolerations (core validation). */
export function validatePodUpdate(c: Causes, spec: unknown, oldSpec: unknown): void {
  if (!isObj(spec) || !isObj(oldSpec)) return;
  const mutable = (s: Obj): Obj => {
    const copy: Obj = { ...s };
    for (const field of ['containers', 'initContainers'] as const) {
      const list = copy[field];
      if (Array.isArray(list)) copy[field] = list.map((item) => (isObj(item) ? { ...item, image: undefined } : item));
    }
    delete copy['activeDeadlineSeconds'];
    delete copy['tolerations'];
    return copy;
  };
  if (!jsonEqual(mutable(spec), mutable(oldSpec))) {
    c.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)');
  }
  const oldTolerations = Array.isArray(oldSpec['tolerations']) ? oldSpec['tolerations'] : [];
  const tolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] : [];
  if (!oldTolerations.every((t) => tolerations.some((n) => jsonEqual(n, t)))) {
    c.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds');
  }
}

/** Does a LabelSelector object select `labels`? One definition for every component (actors/objects). */
export function selectorMatches(selector: Obj, labels: Readonly<Record<string, unknown>>): boolean {
  return matchesStructured(selector as StructuredLabelSelector, labels as Readonly<Record<string, string>>);
}

/** A LabelSelector's syntax; returns whether it selects anything at all (an empty selector is rejected by workloads). */
export function validateLabelSelector(c: Causes, value: unknown, path: string): Obj | undefined {
  const selector = c.obj(path, value);
  if (selector === undefined) return undefined;
  const labels = c.stringMap(`${path}.matchLabels`, selector['matchLabels']);
  for (const [k, v] of labels ?? []) {
    checkName(c, `${path}.matchLabels`, k, qualifiedName);
    checkName(c, `${path}.matchLabels`, v, labelValueCheck);
  }
  for (const { item, path: p } of c.objects(`${path}.matchExpressions`, selector['matchExpressions'])) {
    const key = c.str(`${p}.key`, item['key']);
    if (key === undefined || key === '') c.required(`${p}.key`);
    else checkName(c, `${p}.key`, key, qualifiedName);
    const op = c.str(`${p}.operator`, item['operator']);
    if (op === undefined) { c.required(`${p}.operator`); continue; }
    c.oneOf(`${p}.operator`, op, ['In', 'NotIn', 'Exists', 'DoesNotExist']);
    const values = c.arr(`${p}.values`, item['values']) ?? [];
    values.forEach((v, i) => c.str(`${p}.values[${i}]`, v));
    if ((op === 'In' || op === 'NotIn') && values.length === 0) c.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\'');
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) c.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'');
  }
  return selector;
}

/** Deployments and replicasets: replicas, selector, and a template whose labels the selector selects. */
export function validateWorkload(c: Causes, kind: 'Deployment' | 'ReplicaSet', object: Obj, old: Obj | null): void {
  const spec = object['spec'] === undefined || object['spec'] === null ? undefined : c.obj('spec', object['spec']);
  if (spec === undefined) { if (object['spec'] === undefined || object['spec'] === null) c.required('spec'); return; }
  const replicas = c.int('spec.replicas', spec['replicas']);
  if (replicas !== undefined && replicas < 0) c.invalid('spec.replicas', replicas, 'must be greater than or equal to 0');
  const minReady = c.int('spec.minReadySeconds', spec['minReadySeconds']);
  if (minReady !== undefined && minReady < 0) c.invalid('spec.minReadySeconds', minReady, 'must be greater than or equal to 0');

  if (spec['selector'] === undefined || spec['selector'] === null) c.required('spec.selector');
  const selector = validateLabelSelector(c, spec['selector'], 'spec.selector');
  if (selector !== undefined && Object.keys(isObj(selector['matchLabels']) ? selector['matchLabels'] : {}).length === 0
    && !(Array.isArray(selector['matchExpressions']) && selector['matchExpressions'].length > 0)) {
    c.invalid('spec.selector', selector, 'empty selector is invalid for deployment');
  }

  const template = spec['template'] === undefined || spec['template'] === null ? undefined : c.obj('spec.template', spec['template']);
  if (template === undefined) { if (spec['template'] === undefined || spec['template'] === null) c.required('spec.template'); }
  else {
    const meta = c.obj('spec.template.metadata', template['metadata']) ?? {};
    const labels = c.stringMap('spec.template.metadata.labels', meta['labels']);
    for (const [k, v] of labels ?? []) {
      checkName(c, 'spec.template.metadata.labels', k, qualifiedName);
      checkName(c, 'spec.template.metadata.labels', v, labelValueCheck);
    }
    const labelObj = Object.fromEntries(labels ?? []);
    if (selector !== undefined && !selectorMatches(selector, labelObj)) {
      c.invalid('spec.template.metadata.labels', labelObj, '`selector` does not match template `labels`');
    }
    validatePodSpec(c, template['spec'], 'spec.template.spec', { templateOf: kind });
  }

  if (kind === 'Deployment') {
    const strategy = c.obj('spec.strategy', spec['strategy']);
    if (strategy !== undefined) {
      const type = c.str('spec.strategy.type', strategy['type']);
      c.oneOf('spec.strategy.type', type, ['Recreate', 'RollingUpdate']);
      const rolling = c.obj('spec.strategy.rollingUpdate', strategy['rollingUpdate']);
      if (type === 'Recreate' && rolling !== undefined) c.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\'');
      if (rolling !== undefined) {
        const surge = intOrPercent(c, 'spec.strategy.rollingUpdate.maxSurge', rolling['maxSurge']);
        const unavailable = intOrPercent(c, 'spec.strategy.rollingUpdate.maxUnavailable', rolling['maxUnavailable']);
        if (surge === 0 && unavailable === 0) c.invalid('spec.strategy.rollingUpdate.maxUnavailable', 0, 'may not be 0 when `maxSurge` is 0');
      }
    }
    const history = c.int('spec.revisionHistoryLimit', spec['revisionHistoryLimit']);
    if (history !== undefined && history < 0) c.invalid('spec.revisionHistoryLimit', history, 'must be greater than or equal to 0');
    const progress = c.int('spec.progressDeadlineSeconds', spec['progressDeadlineSeconds']);
    if (progress !== undefined && progress <= (minReady ?? 0)) c.invalid('spec.progressDeadlineSeconds', progress, 'must be greater than minReadySeconds');
    c.bool('spec.paused', spec['paused']);
  }

  if (old !== null && isObj(old['spec']) && !jsonEqual(spec['selector'], old['spec']['selector'])) {
    c.immutable('spec.selector', spec['selector']);
  }
}

/** An int-or-string `25%` value; returns the numeric part (percent or absolute) when valid. */
function intOrPercent(c: Causes, path: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) { c.invalid(path, value, 'must be greater than or equal to 0'); return undefined; }
    return value;
  }
  if (typeof value === 'string') {
    const match = /^(\d+)%$/.exec(value);
    if (match === null) { c.invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"); return undefined; }
    const percent = Number(match[1]);
    if (percent > 100 && path.endsWith('maxUnavailable')) c.invalid(path, value, 'must not be greater than 100%');
    return percent;
  }
  c.typeInvalid(path, value, 'integer or string');
  return undefined;
}
