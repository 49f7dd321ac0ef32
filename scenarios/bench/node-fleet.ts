/**
 * A fleet of hollow nodes for the node-scale benchmark and its test, inside the calling process:
 * Node objects with their Leases renewed every `leaseRenewIntervalMs` (as a kubelet does, spread
 * evenly over the interval), and, with `runPods`, a tiny hollow kubelet per node fed by the real
 * assignment client (nodeagent/assignment): every pod the relay assigns is written Running at once,
 * so a Deployment's time to all Running goes through the relay, not a test shortcut.
 *
 * Decision: this stands in for `kubus agent --hollow-nodes` where that is not available (same Node
 * shape, same Lease cadence, same assignment path); the agent-process fleet (agent-fleet in
 * nodes.ts) measures the real agent's memory. Each renewal is one update of the cached Lease
 * (a conflict refreshes it), as the kubelet does, so the figure is the API's, not a get + update.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Prng, SystemClock, createJsonLogger } from '../../bus/index.js';
import { isAlreadyExists, isConflict, isNotFound, microTime, refs, type ApiClient } from '../../actors/controllers/runtime/index.js';
import { startAssignmentClient, type AssignmentClient, type AssignmentUpdate } from '../../nodeagent/assignment/index.js';
import type { ApiHarness } from '../../test/apiserver/harness.js';
import { adminApi } from '../../test/support/control-plane.js';

export const fleetLimits = {
  /** Renewal rounds per lease interval: 100 slots of 100 ms for the kubelet's 10 s. */
  renewSlots: 100,
  /** Renewals in flight at once; a node whose slot comes while at the bound skips this round (counted), as a kubelet whose last renew still hangs. */
  renewInFlightMax: 512,
  /** Status writes in flight at once from all hollow kubelets. */
  statusWritersMax: 16,
  /** Pods waiting for a Running write; beyond it a pod waits for its next upsert (the relay sends one per change). */
  statusQueueMax: 50_000,
  /** A failed renewal is tried again after this (the kubelet retries from 200 ms, backing off to 7 s)... */
  renewRetryMs: 1_000,
  /** ...up to this many attempts per round; the next round comes anyway. */
  renewAttemptsMax: 3,
  /** Attempts per node create before the fleet gives up (backoff 200 ms doubling to 2 s). */
  createAttemptsMax: 10,
} as const;

export interface FleetOptions {
  readonly nodes: number;
  readonly prefix: string;
  readonly leaseRenewIntervalMs: number;
  /** Concurrent node creators. */
  readonly creators: number;
  /** Run a hollow kubelet per node (assignment client + Running writes). */
  readonly runPods: boolean;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

export interface RenewalFigures {
  latenciesMs: number[];
  failures: number;
  skipped: number;
}

export interface HollowFleet {
  readonly names: readonly string[];
  /** Renewals since the last call (latency of each successful one, failures, skipped rounds). */
  takeRenewals(): RenewalFigures;
  /** Assignment clients that have had their first sync. */
  syncedClients(): number;
  stop(): Promise<void>;
}

/**
 * A loaded machine's store times out or loses quorum now and then: a creator (or the bench's reads)
 * tries again, 200 ms doubling to 2 s (a create that landed before its answer was lost shows as AlreadyExists).
 */
export async function withRetries<T>(attempt: () => Promise<T>, attemptsMax: number = fleetLimits.createAttemptsMax): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= attemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** i)));
    }
  }
}

/**
 * One hollow Node and its Lease: two creates (a Node keeps the status it is created with). An
 * AlreadyExists (a retried create that had landed) counts as done.
 */
async function createNode(api: ApiClient, name: string, index: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const resources = { cpu: '4', memory: '8Gi', pods: '110' };
  const node: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubus.io/fleet': 'hollow' } },
    spec: {},
    status: {
      capacity: resources, allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow fleet node', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}` }, { type: 'Hostname', address: name }],
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.32.0-hollow', kubeProxyVersion: '', bootID: name, machineID: name, systemUUID: name, containerRuntimeVersion: 'hollow://0', kernelVersion: '', osImage: 'hollow' },
    },
  };
  const created = await api.create<Node>(refs.nodes, undefined, node).catch(async (error: unknown) => {
    if (isAlreadyExists(error)) return api.get<Node>(refs.nodes, undefined, name);
    throw error;
  });
  const lease: Lease = {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: created.metadata?.uid ?? '' }] },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(new Date()) },
  };
  await api.create(refs.leases, 'kube-node-lease', lease).catch((error: unknown) => {
    if (!isAlreadyExists(error)) throw error;
  });
}

/** Creates the Nodes (and their Leases) with `creators` in parallel; `onCreated` right after each, so its renewals start at once. */
async function createNodes(api: ApiClient, options: FleetOptions, onCreated: (name: string) => void): Promise<string[]> {
  const started = Date.now();
  let next = 0;
  const names: string[] = [];
  // Each creator takes the next index: the API's write rate, not one slow creator, sets the pace.
  await Promise.all(Array.from({ length: options.creators }, async () => {
    for (let index = next++; index < options.nodes; index = next++) {
      const name = `${options.prefix}-${index + 1}`;
      await withRetries(() => createNode(api, name, index));
      names.push(name);
      onCreated(name);
      if (names.length % 250 === 0) options.progress?.(`  ${names.length}/${options.nodes} nodes (${Math.round(names.length / ((Date.now() - started) / 1000))}/s)`);
    }
  }));
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Writes pods Running (or confirms their graceful deletion), bounded in concurrency and queue length, one write per pod at a time. */
function statusWriter(api: ApiClient): { offer(pod: Pod): void; stop(): void } {
  const queued = new Map<string, Pod>();
  let running = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped && running < fleetLimits.statusWritersMax && queued.size > 0) {
      const [uid, pod] = queued.entries().next().value as [string, Pod];
      queued.delete(uid);
      running++;
      void write(pod).finally(() => {
        running--;
        pump();
      });
    }
  };
  const write = async (pod: Pod): Promise<void> => {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Graceful deletion: a hollow container stops at once; confirm as the agent does (grace 0, this uid only).
      const uid = pod.metadata.uid;
      await api.delete(refs.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, ...(uid !== undefined ? { preconditions: { uid } } : {}) }).catch(() => undefined);
      return;
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status: Pod['status'] = {
      ...pod.status, phase: 'Running', startTime: pod.status?.startTime ?? now, hostIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }, { type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
    };
    await api.update(refs.pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { ...pod, status }, { subresource: 'status' }).catch(() => undefined); // a newer pod arrives as an upsert and is written then
  };
  return {
    offer(pod) {
      if (stopped || (pod.metadata?.deletionTimestamp === undefined && pod.status?.phase === 'Running')) return;
      if (queued.size >= fleetLimits.statusQueueMax && !queued.has(pod.metadata?.uid ?? '')) return;
      queued.set(pod.metadata?.uid ?? '', pod);
      pump();
    },
    stop() {
      stopped = true;
      queued.clear();
    },
  };
}

export async function startHollowFleet(h: ApiHarness, options: FleetOptions): Promise<HollowFleet> {
  const api = adminApi(h);
  const random = new Prng(options.seed ?? 1);
  const leases = new Map<string, Lease>();
  const slots: string[][] = Array.from({ length: fleetLimits.renewSlots }, () => []);
  let figures: RenewalFigures = { latenciesMs: [], failures: 0, skipped: 0 };
  let inFlight = 0;
  let stopped = false;
  const renew = async (name: string, attempt = 1): Promise<void> => {
    const started = performance.now();
    try {
      const lease = leases.get(name) ?? await api.get<Lease>(refs.leases, 'kube-node-lease', name);
      const next = { ...lease, spec: { ...lease.spec, holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(new Date()) } };
      leases.set(name, await api.update<Lease>(refs.leases, 'kube-node-lease', name, next));
      figures.latenciesMs.push(performance.now() - started);
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) leases.delete(name); // read afresh
      figures.failures++;
      // As the kubelet: a failed renewal is retried soon, not a whole interval later.
      if (!stopped && attempt < fleetLimits.renewAttemptsMax) {
        setTimeout(() => {
          if (stopped) return;
          inFlight++;
          void renew(name, attempt + 1).finally(() => inFlight--);
        }, fleetLimits.renewRetryMs);
      }
    }
  };
  let slot = 0;
  const slotMs = options.leaseRenewIntervalMs / fleetLimits.renewSlots;
  const timer = setInterval(() => {
    for (const name of slots[slot] ?? []) {
      if (inFlight >= fleetLimits.renewInFlightMax) {
        figures.skipped++;
        continue;
      }
      inFlight++;
      void renew(name).finally(() => inFlight--);
    }
    slot = (slot + 1) % fleetLimits.renewSlots;
  }, slotMs);

  const clients: AssignmentClient[] = [];
  const writer = statusWriter(api);
  const clock = new SystemClock();
  const logger = createJsonLogger({ level: 'error' });
  const onUpdate = (update: AssignmentUpdate): void => {
    if (update.type === 'sync') for (const pod of update.pods) writer.offer(pod);
    else if (update.type === 'upsert') writer.offer(update.pod);
  };
  let names: string[];
  try {
    names = await createNodes(api, options, (name) => {
      slots[random.int(fleetLimits.renewSlots)]?.push(name);
      if (!options.runPods) return;
      clients.push(startAssignmentClient({ nodeName: name, cluster: h.cluster.cluster, dir: h.dir, api, bus: h.cluster.bus(), clock, wallClock: () => new Date(), logger: logger.child({ node: name }) }, onUpdate));
    });
  } catch (error) {
    clearInterval(timer);
    writer.stop();
    await Promise.all(clients.map((c) => c.stop()));
    throw error;
  }
  return {
    names,
    takeRenewals() {
      const taken = figures;
      figures = { latenciesMs: [], failures: 0, skipped: 0 };
      return taken;
    },
    syncedClients: () => clients.filter((c) => c.synced()).length,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      writer.stop();
      await Promise.all(clients.map((c) => c.stop()));
    },
  };
}
