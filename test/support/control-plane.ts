/**
 * Helpers for control-loop suites on an ApiHarness: an admin ApiClient over NATS, "hollow" Nodes
 * (Node objects with capacity, a Ready condition and a Lease in kube-node-lease that the test
 * renews, standing in for node agents), pods marked ready as a kubelet would, and Lease holders.
 *
 * Hollow nodes also confirm graceful deletions as an agent does: the API marks a pod bound to a
 * node with a deletionTimestamp instead of removing it, and waits for the node's agent to delete
 * it with grace 0. A watch per harness (started with the first hollow node) does that at once for
 * every pod on a hollow node, so suites that delete pods see them go as before.
 */
import { BusClosedError, SystemClock } from '../../bus/index.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { NatsApiClient, isAlreadyExists, isConflict, isNotFound, microTime, refs, type ApiClient } from '../../actors/controllers/runtime/index.js';
import type { ApiHarness } from '../apiserver/harness.js';
import { waitUntil } from './wait.js';

const clients = new WeakMap<ApiHarness, ApiClient>();

/** An ApiClient as kubus-admin over the harness's own NATS connection (it may use any inbox). */
export function adminApi(h: ApiHarness): ApiClient {
  let api = clients.get(h);
  if (api === undefined) {
    // 5 s per request: a request a killed member took is given up on quickly, so probes go on.
    api = new NatsApiClient({ bus: h.cluster.bus(), cluster: h.cluster.cluster, token: h.token, clock: new SystemClock(), inboxOwner: 'test-admin', requestTimeoutMs: 5_000 });
    clients.set(h, api);
  }
  return api;
}

export interface HollowNodeOptions {
  /** Node names are `<prefix>-<i>` (i from 1); default `hollow`. */
  readonly prefix?: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: NonNullable<Node['spec']>['taints'];
  /** Sets `topology.kubernetes.io/zone`. */
  readonly zone?: string;
  readonly unschedulable?: boolean;
  /** First index (default 1), to add nodes to an existing set. */
  readonly from?: number;
}

/** Creates `count` Ready nodes with their Leases; returns their names. */
export async function createHollowNodes(h: ApiHarness, count: number, options: HollowNodeOptions = {}): Promise<string[]> {
  const api = adminApi(h);
  const names: string[] = [];
  const from = options.from ?? 1;
  for (let i = from; i < from + count; i++) {
    const name = `${options.prefix ?? 'hollow'}-${i}`;
    names.push(name);
    const resources = { cpu: options.cpu ?? '4', memory: options.memory ?? '8Gi', pods: options.pods ?? '110' };
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status: Node['status'] = {
      capacity: resources, allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: `127.0.${Math.floor(i / 250) + 1}.${(i % 250) + 1}` }, { type: 'Hostname', address: name }],
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.32.0-hollow', kubeProxyVersion: '', bootID: name, machineID: name, systemUUID: name,
        containerRuntimeVersion: 'hollow://0', kernelVersion: '', osImage: 'hollow',
      },
    };
    const node: Node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
          ...(options.zone !== undefined ? { 'topology.kubernetes.io/zone': options.zone } : {}), ...options.labels,
        },
      },
      spec: { ...(options.taints !== undefined ? { taints: options.taints } : {}), ...(options.unschedulable === true ? { unschedulable: true } : {}) },
      status,
    };
    let created: Node;
    try {
      created = await api.create<Node>(refs.nodes, undefined, node);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      created = await api.get<Node>(refs.nodes, undefined, name);
    }
    // Kubernetes keeps a Node's status on create; if this API did not, it is written through /status.
    if (created.status?.allocatable?.['pods'] === undefined) {
      await api.update(refs.nodes, undefined, name, { ...created, status }, { subresource: 'status' });
    }
    await renewNodeLease(api, created);
  }
  confirmerFor(h).nodes.push(...names);
  return names;
}

interface DeletionConfirmer {
  readonly nodes: string[];
  stop(): void;
}

const confirmers = new WeakMap<ApiHarness, DeletionConfirmer>();
/** Pause before watching again after the watch ended (a member restarted, a watch timed out). */
const confirmerRewatchDelayMs = 200;

/** The harness's deletion confirmer, started on first use; it ends when the harness's bus closes. */
function confirmerFor(h: ApiHarness): DeletionConfirmer {
  const existing = confirmers.get(h);
  if (existing !== undefined) return existing;
  const api = adminApi(h);
  const nodes: string[] = [];
  let stopped = false;
  let watch: { stop(): void } | null = null;
  const confirm = (pod: Pod): void => {
    const meta = pod.metadata;
    if (meta?.deletionTimestamp === undefined || meta.deletionTimestamp === null || !nodes.includes(pod.spec?.nodeName ?? '')) return;
    void api.delete(refs.pods, meta.namespace, meta.name as string, { gracePeriodSeconds: 0, ...(meta.uid !== undefined ? { preconditions: { uid: meta.uid } } : {}) })
      .catch(() => undefined); // gone already, or replaced by a pod of the same name: nothing to confirm
  };
  const run = async (): Promise<void> => {
    // List, confirm what is terminating, then watch from the list's revision; again when the watch ends.
    const list = await api.list<Pod>(refs.pods, {});
    for (const pod of list.items) confirm(pod);
    watch = await api.watch<Pod>(refs.pods, { resourceVersion: list.resourceVersion }, {
      onEvent: (type, pod) => { if (type === 'ADDED' || type === 'MODIFIED') confirm(pod); },
      onEnd: () => restart(),
    });
    if (stopped) watch.stop();
  };
  const restart = (): void => {
    if (stopped) return;
    setTimeout(() => {
      if (!stopped) void run().catch(onFailure);
    }, confirmerRewatchDelayMs).unref();
  };
  const onFailure = (error: unknown): void => {
    // The harness stopped (its bus is closed): so does the confirmer. Anything else: try again.
    if (error instanceof BusClosedError || isHarnessStopped(h)) stopped = true;
    else restart();
  };
  const confirmer: DeletionConfirmer = { nodes, stop: () => { stopped = true; watch?.stop(); } };
  confirmers.set(h, confirmer);
  void run().catch(onFailure);
  return confirmer;
}

function isHarnessStopped(h: ApiHarness): boolean {
  try {
    h.cluster.bus();
    return false;
  } catch {
    return true;
  }
}

/**
 * Confirms graceful deletions on `nodes` as their agents would (deletes their terminating pods with
 * grace 0), for suites that create Node objects themselves instead of with createHollowNodes.
 */
export function confirmDeletionsOn(h: ApiHarness, nodes: readonly string[]): void {
  confirmerFor(h).nodes.push(...nodes);
}

/** Stops confirming deletions for the harness's hollow nodes (their pods then stay Terminating, as with a dead agent). */
export function stopHollowDeletionConfirmer(h: ApiHarness): void {
  confirmers.get(h)?.stop();
}

async function renewNodeLease(api: ApiClient, node: Node | string): Promise<void> {
  const name = typeof node === 'string' ? node : (node.metadata?.name as string);
  const renewTime = microTime(new Date());
  try {
    const lease = await api.get<Lease>(refs.leases, 'kube-node-lease', name);
    await api.update(refs.leases, 'kube-node-lease', name, { ...lease, spec: { ...lease.spec, holderIdentity: name, leaseDurationSeconds: 40, renewTime } });
  } catch (error) {
    if (isConflict(error)) return; // renewed concurrently: as good
    if (!isNotFound(error)) throw error;
    const owner = typeof node === 'string' ? undefined : node.metadata?.uid;
    await api.create(refs.leases, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease', ...(owner !== undefined ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: owner }] } : {}) },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
    });
  }
}

/** Renews each node's Lease once (as a kubelet does every 10 s). */
export async function renewNodeLeases(h: ApiHarness, names: readonly string[]): Promise<void> {
  const api = adminApi(h);
  await Promise.all(names.map((name) => renewNodeLease(api, name)));
}

export interface NodeLeaseRenewer {
  /** Stops renewing `name` (the node looks dead to the node lifecycle controller). */
  pause(name: string): void;
  resume(name: string): void;
  stop(): Promise<void>;
}

/** Renews the nodes' Leases every `everyMs` until stopped; failures are retried at the next round. */
export function startNodeLeaseRenewer(h: ApiHarness, names: readonly string[], everyMs = 1_000): NodeLeaseRenewer {
  const paused = new Set<string>();
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    round = renewNodeLeases(h, names.filter((n) => !paused.has(n))).catch(() => undefined);
    timer = setTimeout(tick, everyMs);
  };
  let timer = setTimeout(tick, everyMs);
  return {
    pause: (name) => void paused.add(name),
    resume: (name) => void paused.delete(name),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}

/**
 * Marks the bound pods that `labelSelector` selects in `namespace` Running and Ready, as a kubelet
 * would (pods/status: phase, conditions, podIP in 127/8, container statuses). Returns how many
 * it changed; pods already ready or not yet bound are left alone.
 */
export async function markPodsReady(h: ApiHarness, namespace: string, labelSelector: string): Promise<number> {
  const api = adminApi(h);
  const { items } = await api.list<Pod>(refs.pods, { namespace, labelSelector });
  let changed = 0;
  for (const pod of items) {
    if (pod.spec?.nodeName === undefined || pod.metadata?.deletionTimestamp !== undefined) continue;
    if (pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    const ip = podIp(pod.metadata?.uid ?? pod.metadata?.name ?? '');
    const status: Pod['status'] = {
      ...pod.status,
      phase: 'Running',
      conditions: [condition('PodReadyToStartContainers'), condition('Initialized'), condition('Ready'), condition('ContainersReady'), condition('PodScheduled')] as never,
      podIP: ip, podIPs: [{ ip }], hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }], startTime: pod.status?.startTime ?? now,
      containerStatuses: (pod.spec.containers ?? []).map((c) => ({
        name: c.name, image: c.image ?? '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } },
      })),
    };
    try {
      await api.update(refs.pods, namespace, pod.metadata?.name as string, { ...pod, status }, { subresource: 'status' });
      changed++;
    } catch (error) {
      if (!isConflict(error) && !isNotFound(error)) throw error; // changed meanwhile: the caller marks again
    }
  }
  return changed;
}

/** A stable loopback address per pod: 127.<1-250>.<0-255>.<1-250>. */
function podIp(seed: string): string {
  let hash = 2166136261;
  for (const char of seed) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return `127.${(hash % 250) + 1}.${(hash >>> 8) % 256}.${((hash >>> 16) % 250) + 1}`;
}

/** The holder of `kube-system/<name>` once one holds it (optionally: once it is not `not`). */
export async function waitForLeaseHolder(h: ApiHarness, name: string, options: { timeoutMs?: number; not?: string } = {}): Promise<string> {
  const api = adminApi(h);
  return waitUntil(`a holder of Lease kube-system/${name}${options.not !== undefined ? ` other than ${options.not}` : ''}`, async () => {
    const lease = await api.get<Lease>(refs.leases, 'kube-system', name).catch(() => null);
    const holder = lease?.spec?.holderIdentity;
    return holder !== undefined && holder !== '' && holder !== options.not ? holder : null;
  }, { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50 });
}

/** The member id a leader-election identity names (`s2_1a2b3c4d` → `s2`). */
export function memberOfIdentity(identity: string): string {
  return identity.slice(0, identity.lastIndexOf('_'));
}
