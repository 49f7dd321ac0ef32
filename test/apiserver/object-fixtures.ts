/** Valid objects of every kind the API server serves, shared by the pure-logic apiserver tests. */
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

export function resource(group: string, version: string, plural: string): ResourceInfo {
  const info = findResource(group, version, plural);
  if (info === undefined) throw new Error(`no resource ${group}/${version}/${plural}`);
  return info;
}

const meta = (name: string, namespace?: string): KubeObject['metadata'] => ({ name, ...(namespace !== undefined ? { namespace } : {}) });

/** [resource info, a valid object] pairs; fresh copies on every call. */
export function validObjects(): [ResourceInfo, KubeObject][] {
  const podSpec = {
    containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', emptyDir: {} }],
  };
  return [
    [resource('', 'v1', 'pods'), { apiVersion: 'v1', kind: 'Pod', metadata: { ...meta('web-1', 'default'), labels: { app: 'web' } }, spec: structuredClone(podSpec) }],
    [resource('apps', 'v1', 'deployments'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web', 'default'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: structuredClone(podSpec) } } }],
    [resource('apps', 'v1', 'replicasets'), { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-abc', 'default'),
      spec: { replicas: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, template: { metadata: { labels: { app: 'web' } }, spec: structuredClone(podSpec) } } }],
    [resource('', 'v1', 'services'), { apiVersion: 'v1', kind: 'Service', metadata: meta('web', 'default'),
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 'https' }] } }],
    [resource('', 'v1', 'configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cfg', 'default'), data: { 'app.properties': 'a=b', KEY_1: 'v' } }],
    [resource('', 'v1', 'secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: meta('s', 'default'), type: 'Opaque', data: { password: 'c2VjcmV0' } }],
    [resource('', 'v1', 'namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: meta('team-a') }],
    [resource('', 'v1', 'nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { ...meta('node-1'), labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }],
    [resource('coordination.k8s.io', 'v1', 'leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('leader', 'kube-system'),
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 15 } }],
    [resource('', 'v1', 'events'), { apiVersion: 'v1', kind: 'Event', metadata: meta('web-1.abc', 'default'),
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' }, reason: 'Scheduled', message: 'ok', type: 'Normal', count: 1 }],
    [resource('', 'v1', 'endpoints'), { apiVersion: 'v1', kind: 'Endpoints', metadata: meta('web', 'default'),
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }],
    [resource('', 'v1', 'persistentvolumeclaims'), { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('data', 'default'),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    [resource('', 'v1', 'persistentvolumes'), { apiVersion: 'v1', kind: 'PersistentVolume', metadata: meta('pv-1'),
      spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, hostPath: { path: '/tmp/pv' } } }],
    [resource('autoscaling', 'v2', 'horizontalpodautoscalers'), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('web', 'default'),
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] } }],
    [resource('rbac.authorization.k8s.io', 'v1', 'roles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('reader', 'default'),
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }],
    [resource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta('admins'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'Group', name: 'system:masters' }, { kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' }] }],
  ];
}

export function fixture(kind: string): [ResourceInfo, KubeObject] {
  const found = validObjects().find(([info]) => info.kind === kind);
  if (found === undefined) throw new Error(`no fixture for ${kind}`);
  return found;
}
