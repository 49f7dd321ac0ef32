/**
 * VolumeBinding, as agreed with the PersistentVolume binder and provisioner: a pod's claims that
 * are bound restrict it to the nodes their PV's `spec.nodeAffinity` selects; an unbound claim of
 * an Immediate StorageClass (or of no known class) makes the pod unschedulable until the binder
 * binds it; an unbound claim of a WaitForFirstConsumer class lets the pod go to any node that
 * fits (and the class's allowedTopologies allows), and the scheduler names that node on the claim
 * (`volume.kubernetes.io/selected-node`) before binding the pod, so the provisioner follows it.
 */
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isDeleting, nodeSelectorMatches, nodeSelectorTermMatches } from '../../objects/index.js';
import { failure, skip, type FilterPlugin, type NodeFilter, type PreFilterFailure } from '../framework.js';
import type { PodInfo } from '../pod-info.js';
import type { Snapshot } from '../snapshot.js';

const name = 'VolumeBinding';
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';
const nodeConflict = failure(name, 'UnschedulableAndUnresolvable', 'node(s) had volume node affinity conflict');
const noTopology = failure(name, 'UnschedulableAndUnresolvable', "node(s) didn't find available persistent volumes to bind");

function claimNames(pod: PodInfo): string[] {
  const out: string[] = [];
  for (const v of pod.pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName !== undefined) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral !== undefined) out.push(`${pod.pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

function isWaitForFirstConsumer(claim: PersistentVolumeClaim, snapshot: Snapshot): StorageClass | undefined {
  const storageClass = snapshot.storageClass(claim.spec?.storageClassName ?? '');
  return storageClass?.volumeBindingMode === 'WaitForFirstConsumer' ? storageClass : undefined;
}

function preFail(message: string): PreFilterFailure {
  return { plugin: name, code: 'UnschedulableAndUnresolvable', message };
}

export const volumeBinding: FilterPlugin = {
  name,
  prepare(pod, snapshot) {
    const names = claimNames(pod);
    if (names.length === 0) return skip;
    const checks: NodeFilter[] = [];
    let unboundImmediate = false;
    for (const claimName of names) {
      const claim = snapshot.claim(pod.namespace, claimName);
      if (claim === undefined) return preFail(`persistentvolumeclaim "${claimName}" not found`);
      if (isDeleting(claim)) return preFail(`persistentvolumeclaim "${claimName}" is being deleted`);
      const volumeName = claim.spec?.volumeName;
      if (volumeName !== undefined && volumeName !== '') {
        const volume = snapshot.volume(volumeName);
        if (volume === undefined) return preFail(`persistentvolume "${volumeName}" not found`);
        const required = volume.spec?.nodeAffinity?.required;
        if (required !== undefined) checks.push((node) => (nodeSelectorMatches(required, node) ? undefined : nodeConflict));
        continue;
      }
      const delayed = isWaitForFirstConsumer(claim, snapshot);
      if (delayed === undefined) { unboundImmediate = true; continue; }
      const allowed = delayed.allowedTopologies ?? [];
      if (allowed.length > 0) {
        checks.push((node) => (allowed.some((term) => nodeSelectorTermMatches({
          matchExpressions: (term.matchLabelExpressions ?? []).map((e) => ({ key: e.key, operator: 'In', values: e.values })),
        }, node)) ? undefined : noTopology));
      }
    }
    if (unboundImmediate) return preFail('pod has unbound immediate PersistentVolumeClaims');
    if (checks.length === 0) return skip;
    return (node) => {
      for (const check of checks) {
        const failed = check(node);
        if (failed !== undefined) return failed;
      }
      return undefined;
    };
  },
};

/** The pod's unbound WaitForFirstConsumer claims not yet annotated with `node`: what to annotate before binding. */
export function claimsToAnnotate(pod: PodInfo, snapshot: Snapshot, node: string): string[] {
  const out: string[] = [];
  for (const claimName of claimNames(pod)) {
    const claim = snapshot.claim(pod.namespace, claimName);
    if (claim === undefined || (claim.spec?.volumeName ?? '') !== '') continue;
    if (isWaitForFirstConsumer(claim, snapshot) === undefined) continue;
    if (claim.metadata?.annotations?.[selectedNodeAnnotation] === node) continue;
    out.push(claimName);
  }
  return out;
}
