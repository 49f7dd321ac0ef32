/** Small PersistentVolume and PersistentVolumeClaim builders for the volume binder's unit tests. */
import type { ObjectReference, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';

export function pv(name: string, fields: { size?: string; modes?: string[]; cls?: string; labels?: Record<string, string>; phase?: string; claimRef?: ObjectReference; mode?: string; node?: string; deleting?: boolean } = {}): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, ...(fields.labels !== undefined ? { labels: fields.labels } : {}), ...(fields.deleting === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      capacity: { storage: fields.size ?? '1Gi' }, accessModes: fields.modes ?? ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: fields.mode ?? 'Filesystem', hostPath: { path: `/data/${name}` },
      ...(fields.cls !== undefined ? { storageClassName: fields.cls } : {}),
      ...(fields.claimRef !== undefined ? { claimRef: fields.claimRef } : {}),
      ...(fields.node !== undefined ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [fields.node] }] }] } } } : {}),
    },
    status: { phase: fields.phase ?? 'Available' },
  };
}

export function pvc(name: string, fields: { size?: string; modes?: string[]; cls?: string | null; selector?: NonNullable<PersistentVolumeClaim['spec']>['selector']; mode?: string; volumeName?: string; uid?: string; annotations?: Record<string, string>; phase?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'ns', uid: fields.uid ?? `uid-${name}`, ...(fields.annotations !== undefined ? { annotations: fields.annotations } : {}) },
    spec: {
      accessModes: fields.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: fields.size ?? '1Gi' } }, volumeMode: fields.mode ?? 'Filesystem',
      ...(fields.cls === null ? {} : { storageClassName: fields.cls ?? '' }),
      ...(fields.selector !== undefined ? { selector: fields.selector } : {}),
      ...(fields.volumeName !== undefined ? { volumeName: fields.volumeName } : {}),
    },
    status: { phase: fields.phase ?? 'Pending' },
  };
}
