/**
 * Which objects each node may read (Kubernetes' node authorizer graph, simplified): the pods bound
 * to it (`spec.nodeName`), and the configmaps, secrets and PVCs those pods name in volumes,
 * projected volumes, `envFrom`, `env[].valueFrom` and `imagePullSecrets`; a PV is reachable
 * through a reachable PVC's `spec.volumeName`. Built from the pods and PVCs collections, rebuilt
 * lazily on the first question after a change (one pass over the pods) rather than per event.
 */
import type { KubeObject } from '../types.js';

export type GraphKind = 'pod' | 'configmap' | 'secret' | 'pvc' | 'serviceaccount';

export interface GraphSource {
  pods(): Iterable<KubeObject>;
  pvc(namespace: string, name: string): KubeObject | undefined;
}

type Refs = Map<GraphKind, Set<string>>;

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(record) : [];
}

function nameOf(value: unknown, field = 'name'): string | null {
  const name = record(value)[field];
  return typeof name === 'string' && name !== '' ? name : null;
}

/** Every (kind, name) a pod spec refers to, in the pod's namespace. */
export function podReferences(pod: KubeObject): { kind: GraphKind; name: string }[] {
  const spec = record(pod.spec);
  const out: { kind: GraphKind; name: string }[] = [];
  const add = (kind: GraphKind, name: string | null): void => {
    if (name !== null) out.push({ kind, name });
  };
  // A node asks tokens for the service account its pods run as (projected token volumes).
  add('serviceaccount', typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? spec.serviceAccountName : null);
  for (const volume of list(spec.volumes)) {
    add('configmap', nameOf(volume.configMap));
    add('secret', nameOf(volume.secret, 'secretName'));
    add('pvc', nameOf(volume.persistentVolumeClaim, 'claimName'));
    for (const source of list(record(volume.projected).sources)) {
      add('configmap', nameOf(source.configMap));
      add('secret', nameOf(source.secret));
    }
  }
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const container of list(spec[field])) {
      for (const from of list(container.envFrom)) {
        add('configmap', nameOf(from.configMapRef));
        add('secret', nameOf(from.secretRef));
      }
      for (const env of list(container.env)) {
        const valueFrom = record(env.valueFrom);
        add('configmap', nameOf(valueFrom.configMapKeyRef));
        add('secret', nameOf(valueFrom.secretKeyRef));
      }
    }
  }
  for (const pullSecret of list(spec.imagePullSecrets)) add('secret', nameOf(pullSecret));
  return out;
}

export function podNodeName(pod: KubeObject): string | null {
  const nodeName = record(pod.spec).nodeName;
  return typeof nodeName === 'string' && nodeName !== '' ? nodeName : null;
}

export class NodeGraph {
  private byNode: Map<string, Refs> | null = null;

  constructor(private readonly source: GraphSource) {}

  /** Called by the pods collection on every change: the index is rebuilt on the next question. */
  invalidate(): void {
    this.byNode = null;
  }

  has(node: string, kind: GraphKind, namespace: string, name: string): boolean {
    return this.index().get(node)?.get(kind)?.has(key(namespace, name)) ?? false;
  }

  /** A PV is reachable when a reachable PVC is bound to it. */
  hasPersistentVolume(node: string, name: string): boolean {
    for (const claim of this.index().get(node)?.get('pvc') ?? []) {
      const slash = claim.indexOf('/');
      const pvc = this.source.pvc(claim.slice(0, slash), claim.slice(slash + 1));
      if (pvc !== undefined && record(pvc.spec).volumeName === name) return true;
    }
    return false;
  }

  private index(): Map<string, Refs> {
    if (this.byNode !== null) return this.byNode;
    const byNode = new Map<string, Refs>();
    for (const pod of this.source.pods()) {
      const node = podNodeName(pod);
      const namespace = pod.metadata.namespace;
      if (node === null || namespace === undefined || pod.metadata.name === undefined) continue;
      let refs = byNode.get(node);
      if (refs === undefined) {
        refs = new Map();
        byNode.set(node, refs);
      }
      const add = (kind: GraphKind, name: string): void => {
        let names = refs.get(kind);
        if (names === undefined) {
          names = new Set();
          refs.set(kind, names);
        }
        names.add(key(namespace, name));
      };
      add('pod', pod.metadata.name);
      for (const ref of podReferences(pod)) add(ref.kind, ref.name);
    }
    this.byNode = byNode;
    return byNode;
  }
}
