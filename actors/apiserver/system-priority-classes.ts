/**
 * The two built-in PriorityClasses every cluster has (`system-node-critical`,
 * `system-cluster-critical`), created at member start like the default RBAC policy: as
 * kube-apiserver's `poststarthook/scheduling/bootstrap-system-priority-classes`, idempotent (an
 * existing class is left as it is) and part of the bootstrap a member must finish to be ready.
 */
import type { ObjectStorage } from './http/objects-port.js';
import { findResource, type ResourceInfo } from './registry/resources.js';
import { ApiError } from './status.js';
import type { KubeObject } from './types.js';
import { systemPriorityClasses } from './validation-policy.js';

const priorityClasses = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceInfo;

export function systemPriorityClassObjects(): KubeObject[] {
  return systemPriorityClasses.map((pc) => ({
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name },
    value: pc.value, globalDefault: false, description: pc.description, preemptionPolicy: 'PreemptLowerPriority',
  }));
}

export async function ensureSystemPriorityClasses(objects: Pick<ObjectStorage, 'create'>): Promise<void> {
  for (const object of systemPriorityClassObjects()) {
    try {
      await objects.create(priorityClasses, null, object);
    } catch (error) {
      if (!(error instanceof ApiError && error.httpStatus === 409)) throw error;
    }
  }
}
