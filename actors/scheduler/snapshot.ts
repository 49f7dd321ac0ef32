/**
 * The cluster as a scheduling decision reads it: nodes (with their pods, bound and assumed),
 * volumes and namespaces. `Snapshot` is the read-only view the pure decision function takes;
 * `ClusterCache` is the one mutable implementation the scheduler loop keeps up to date from its
 * informers and its own assumptions, and that tests and the benchmark build directly.
 *
 * Decision: no copy per decision. Kubernetes snapshots its cache once per cycle by generation; here
 * the loop decides one pod at a time on a single thread, so the cache itself is a consistent
 * snapshot between two decisions and copying 5,000 nodes per pod would cost more than deciding.
 */
import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { objectKey } from '../objects/index.js';
import { NodeInfo } from './node-info.js';
import { PodIndex } from './pod-index.js';
import { podInfo, type PodInfo } from './pod-info.js';

export interface Snapshot {
  /** Every node, in a stable order (the decision rotates its starting point through it). */
  readonly nodes: readonly NodeInfo[];
  node(name: string): NodeInfo | undefined;
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  storageClass(name: string): StorageClass | undefined;
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined;
  /** Pods nominated to a node by preemption and not yet bound (their space is held for them). */
  nominatedOn(node: string): readonly PodInfo[];
  /**
   * For the nodes that have every one of `keys` as a label: the values of each key (the topology
   * domains PodTopologySpread counts). Memoized until a node changes.
   */
  domains(keys: readonly string[]): ReadonlyMap<string, ReadonlySet<string>>;
  /** How many pods are nominated anywhere (0: filters need not look). */
  readonly nominatedCount: number;
  /** The placed pods indexed by label, namespace and affinity term. */
  readonly podIndex: PodIndex;
}

export class ClusterCache implements Snapshot {
  private readonly nodeList: NodeInfo[] = [];
  private readonly byName = new Map<string, NodeInfo>();
  /** Pods whose node is not (yet) known: kept so a late Node gets them. */
  private readonly orphanPods = new Map<string, PodInfo>();
  /** pod key → node name, for every pod in the cache. */
  private readonly podNode = new Map<string, string>();
  private readonly claims = new Map<string, PersistentVolumeClaim>();
  private readonly volumes = new Map<string, PersistentVolume>();
  private readonly classes = new Map<string, StorageClass>();
  private readonly namespaces = new Map<string, Readonly<Record<string, string>>>();
  private readonly nominated = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNodeOf = new Map<string, string>();
  readonly podIndex = new PodIndex();
  private readonly domainMemo = new Map<string, ReadonlyMap<string, ReadonlySet<string>>>();

  get nodes(): readonly NodeInfo[] {
    return this.nodeList;
  }

  node(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  domains(keys: readonly string[]): ReadonlyMap<string, ReadonlySet<string>> {
    const id = keys.join('\u0000');
    let known = this.domainMemo.get(id);
    if (known === undefined) this.domainMemo.set(id, (known = domainsOf(this.nodeList, keys)));
    return known;
  }

  setNode(node: Node): void {
    this.domainMemo.clear();
    const name = node.metadata?.name ?? '';
    const next = new NodeInfo(node);
    const previous = this.byName.get(name);
    if (previous !== undefined) {
      // Re-indexed: the index hands out each pod's NodeInfo, which is now `next` (and labels may have changed).
      for (const info of previous.pods.values()) {
        next.addPod(info);
        this.podIndex.remove(info, previous);
        this.podIndex.add(info, next);
      }
      this.nodeList[this.nodeList.indexOf(previous)] = next;
    } else {
      this.nodeList.push(next);
      for (const [key, info] of this.orphanPods) {
        if (this.podNode.get(key) === name) {
          next.addPod(info);
          this.podIndex.add(info, next);
          this.orphanPods.delete(key);
        }
      }
    }
    this.byName.set(name, next);
  }

  removeNode(name: string): void {
    this.domainMemo.clear();
    const previous = this.byName.get(name);
    if (previous === undefined) return;
    this.byName.delete(name);
    this.nodeList.splice(this.nodeList.indexOf(previous), 1);
    for (const [key, info] of previous.pods) {
      this.orphanPods.set(key, info);
      this.podIndex.remove(info, previous);
    }
  }

  /** Adds or replaces a pod on `nodeName` (its bound node, or the node it is assumed on). */
  setPod(pod: Pod | PodInfo, nodeName: string): PodInfo {
    const info = 'key' in pod && 'requests' in pod ? pod : podInfo(pod as Pod);
    this.removePod(info.key);
    this.podNode.set(info.key, nodeName);
    const node = this.byName.get(nodeName);
    if (node === undefined) this.orphanPods.set(info.key, info);
    else {
      node.addPod(info);
      this.podIndex.add(info, node);
    }
    return info;
  }

  removePod(key: string): void {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return;
    this.podNode.delete(key);
    this.orphanPods.delete(key);
    const node = this.byName.get(nodeName);
    const info = node?.removePod(key);
    if (node !== undefined && info !== undefined) this.podIndex.remove(info, node);
  }

  nodeOfPod(key: string): string | undefined {
    return this.podNode.get(key);
  }

  setNominated(info: PodInfo, nodeName: string | undefined): void {
    const previous = this.nominatedNodeOf.get(info.key);
    if (previous !== undefined) this.nominated.get(previous)?.delete(info.key);
    this.nominatedNodeOf.delete(info.key);
    if (nodeName === undefined || nodeName === '') return;
    this.nominatedNodeOf.set(info.key, nodeName);
    let onNode = this.nominated.get(nodeName);
    if (onNode === undefined) this.nominated.set(nodeName, (onNode = new Map()));
    onNode.set(info.key, info);
  }

  get nominatedCount(): number {
    return this.nominatedNodeOf.size;
  }

  nominatedOn(node: string): readonly PodInfo[] {
    const onNode = this.nominated.get(node);
    return onNode === undefined || onNode.size === 0 ? [] : [...onNode.values()];
  }

  claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): PersistentVolume | undefined {
    return this.volumes.get(name);
  }

  storageClass(name: string): StorageClass | undefined {
    return this.classes.get(name);
  }

  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(name);
  }

  setClaim(claim: PersistentVolumeClaim, present = true): void {
    if (present) this.claims.set(objectKey(claim), claim);
    else this.claims.delete(objectKey(claim));
  }

  setVolume(volume: PersistentVolume, present = true): void {
    if (present) this.volumes.set(volume.metadata?.name ?? '', volume);
    else this.volumes.delete(volume.metadata?.name ?? '');
  }

  setStorageClass(storageClass: StorageClass, present = true): void {
    if (present) this.classes.set(storageClass.metadata?.name ?? '', storageClass);
    else this.classes.delete(storageClass.metadata?.name ?? '');
  }

  setNamespace(namespace: Namespace, present = true): void {
    if (present) this.namespaces.set(namespace.metadata?.name ?? '', namespace.metadata?.labels ?? {});
    else this.namespaces.delete(namespace.metadata?.name ?? '');
  }
}

export function domainsOf(nodes: readonly NodeInfo[], keys: readonly string[]): ReadonlyMap<string, ReadonlySet<string>> {
  const out = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  for (const node of nodes) {
    if (!keys.every((k) => node.labels[k] !== undefined)) continue;
    for (const k of keys) out.get(k)?.add(node.labels[k] as string);
  }
  return out;
}

/** A snapshot built from plain objects: what tests and the benchmark replay decisions on. */
export function buildSnapshot(input: {
  readonly nodes: readonly Node[];
  readonly pods?: readonly Pod[];
  readonly claims?: readonly PersistentVolumeClaim[];
  readonly volumes?: readonly PersistentVolume[];
  readonly storageClasses?: readonly StorageClass[];
  readonly namespaces?: readonly Namespace[];
}): ClusterCache {
  const cache = new ClusterCache();
  for (const node of input.nodes) cache.setNode(node);
  for (const pod of input.pods ?? []) {
    const nodeName = pod.spec?.nodeName;
    if (nodeName !== undefined && nodeName !== '') cache.setPod(pod, nodeName);
    else if (pod.status?.nominatedNodeName) cache.setNominated(podInfo(pod), pod.status.nominatedNodeName);
  }
  for (const c of input.claims ?? []) cache.setClaim(c);
  for (const v of input.volumes ?? []) cache.setVolume(v);
  for (const s of input.storageClasses ?? []) cache.setStorageClass(s);
  for (const n of input.namespaces ?? []) cache.setNamespace(n);
  return cache;
}
