/**
 * The pod plugins of the mutating chain, in Kubernetes' order after LimitRanger: ServiceAccount,
 * Priority, DefaultTolerationSeconds; and after the mutating webhooks, `status.qosClass`. Also
 * the Priority plugin's PriorityClass check (one global default). The plugins are pure
 * (service-account.ts, priority.ts, default-toleration-seconds.ts, pod-qos.ts); this file reads
 * what they need from the member's own state, as the other plugins do.
 */
import { randomInt } from 'node:crypto';
import type { Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { AdmissionRequest } from '../http/admission.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { admissionLimits } from './limits.js';
import { admitDefaultTolerationSeconds } from './default-toleration-seconds.js';
import { admitPodPriority, admitPriorityClass } from './priority.js';
import { withQosClass } from './pod-qos.js';
import { admitServiceAccount, isMirrorPod, serviceAccountNameOf, volumeSuffix } from './service-account.js';

const serviceAccounts = findResource('', 'v1', 'serviceaccounts') as ResourceInfo;
const priorityClasses = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceInfo;
/** Admission reads the member's applied state, as the chain's other plugins (see chain.ts). */
const localRead = { resourceVersion: '0' } as const;

export interface PodPluginDeps {
  readonly objects: ObjectStorage;
  /** A float in [0, 1) for the token volume's name; tests pass a seeded one. */
  readonly random?: () => number;
}

const isPodCreate = (r: AdmissionRequest): boolean =>
  r.operation === 'CREATE' && r.subresource === null && r.info.group === '' && r.info.resource === 'pods' && r.namespace !== null;
const isPodUpdate = (r: AdmissionRequest): boolean =>
  r.operation === 'UPDATE' && (r.subresource === null || r.subresource === 'status') && r.info.group === '' && r.info.resource === 'pods' && r.old !== null;
const isPriorityClassWrite = (r: AdmissionRequest): boolean =>
  (r.operation === 'CREATE' || r.operation === 'UPDATE') && r.subresource === null && r.info.group === 'scheduling.k8s.io' && r.info.resource === 'priorityclasses';

/**
 * ServiceAccount, Priority and DefaultTolerationSeconds on a pod create; the global-default check
 * on a PriorityClass write. `object` is the defaulted object; `request.object` is what the client
 * wrote (a priority the client gave must agree with the class, one defaulting filled in need not).
 */
export async function admitPodPlugins(deps: PodPluginDeps, request: AdmissionRequest, object: KubeObject): Promise<KubeObject> {
  if (isPriorityClassWrite(request)) {
    admitPriorityClass(object as unknown as PriorityClass, request.operation as 'CREATE' | 'UPDATE', await listPriorityClasses(deps.objects));
    return object;
  }
  if (isPodUpdate(request)) return keepPriority(object, request.old);
  if (!isPodCreate(request)) return object;
  // Admission runs before validation: a pod whose lists are not lists of objects is left as it is
  // and validation refuses it with 422, rather than a plugin failing on it with a 500.
  if (!isWellShaped(object)) return object;
  const namespace = request.namespace as string;
  let pod = object as unknown as Pod;
  const account = isMirrorPod(pod) ? null : await serviceAccount(deps.objects, namespace, serviceAccountNameOf(pod));
  pod = admitServiceAccount(pod, account, { namespace, suffix: volumeSuffix(deps.random ?? (() => randomInt(2 ** 30) / 2 ** 30)) });
  const written = (request.object as { spec?: { priority?: unknown; preemptionPolicy?: unknown } } | null)?.spec;
  pod = admitPodPriority(pod, {
    priority: typeof written?.priority === 'number' ? written.priority : undefined,
    preemptionPolicy: typeof written?.preemptionPolicy === 'string' ? written.preemptionPolicy : undefined,
  }, await listPriorityClasses(deps.objects));
  pod = admitDefaultTolerationSeconds(pod);
  return pod as unknown as KubeObject;
}

/**
 * On a pod update, the priority and policy admission set at create are kept when the client left
 * them out (a `kubectl replace` of the original manifest), as Kubernetes' plugin does; validation
 * still refuses any other change to them.
 */
function keepPriority(object: KubeObject, old: KubeObject | null): KubeObject {
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  const oldSpec = (old as { spec?: Record<string, unknown> } | null)?.spec;
  if (spec === undefined || oldSpec === undefined) return object;
  const kept = { ...spec };
  for (const field of ['priority', 'preemptionPolicy'] as const) {
    if (kept[field] === undefined && oldSpec[field] !== undefined) kept[field] = oldSpec[field];
  }
  return { ...object, spec: kept };
}

/** The last mutation of a pod create: its QoS class from the final resources. */
export function finishPodCreate(request: AdmissionRequest, object: KubeObject | null): KubeObject | null {
  if (object === null || !isPodCreate(request) || !isWellShaped(object)) return object;
  return withQosClass(object as unknown as Pod) as unknown as KubeObject;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An absent list, or an array whose every element is an object. */
const isObjectList = (value: unknown): boolean => value === undefined || (Array.isArray(value) && value.every(isRecord));

/** The shape the pod plugins read: metadata and spec objects, and their lists lists of objects. */
function isWellShaped(object: KubeObject): boolean {
  const { metadata, spec } = object as { metadata?: unknown; spec?: unknown };
  if (!isRecord(metadata) || !isRecord(spec)) return false;
  if (![metadata['labels'], metadata['annotations']].every((v) => v === undefined || isRecord(v))) return false;
  if (!['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'tolerations'].every((f) => isObjectList(spec[f]))) return false;
  const containers = [spec['containers'], spec['initContainers'], spec['ephemeralContainers']].flatMap((list) => (Array.isArray(list) ? list : [])) as Record<string, unknown>[];
  return containers.every((c) => isObjectList(c['volumeMounts']) && isObjectList(c['env']) && (c['resources'] === undefined || isRecord(c['resources'])));
}

async function serviceAccount(objects: ObjectStorage, namespace: string, name: string): Promise<ServiceAccount | null> {
  try {
    return await objects.get(serviceAccounts, namespace, name, localRead) as unknown as ServiceAccount;
  } catch (error) {
    if (error instanceof ApiError && error.httpStatus === 404) return null;
    throw error;
  }
}

async function listPriorityClasses(objects: ObjectStorage): Promise<PriorityClass[]> {
  const page = await objects.list(priorityClasses, null, { ...localRead, limit: admissionLimits.priorityClassesMax });
  if (page.continue !== undefined && page.continue !== '') {
    // Resolving a class against a partial list could miss it or the default: refuse rather than guess.
    throw apiErrors.forbidden(`priority admission cannot resolve classes: the cluster holds more than ${admissionLimits.priorityClassesMax} PriorityClasses`);
  }
  return page.items as unknown as PriorityClass[];
}
