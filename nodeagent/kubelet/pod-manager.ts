/**
 * The pod manager: turns the node's assignment updates into one pod worker per pod uid, removes
 * sandboxes of pods the node no longer has (orphans, after the first full list), adopts the
 * sandboxes and containers still running after an agent restart instead of restarting them, and
 * keeps the checkpoint (checkpoint.ts) in step with the assignments.
 *
 * Decision: updates are applied strictly in order through one promise chain, because the first
 * one needs the runtime's list of sandboxes (for adoption) before any worker starts.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { createActor, type ActorRefFrom } from 'xstate';
import type { AgentContext, EnvResolver, NodeHandle, PodManagerHandle, PodStatusSink, Prober, VolumeManager } from '../agent-context.js';
import type { AssignmentUpdate } from '../assignment/protocol.js';
import type { ContainerRuntime, PodSandboxStatus } from '../runtime/types.js';
import { runtimeLabels } from '../runtime/types.js';
import { CheckpointStore, type Checkpoint, type PodCheckpoint } from './checkpoint.js';
import type { ProbeListener } from './pod-sync.js';
import { podWorkerMachine, type PodWorkerEvent } from './pod-worker.js';
import { checkpointOf, newWorkerState, type PodWorkerDeps, type WorkerState } from './worker-state.js';
import type { PodDnsSettings } from '../dns/index.js';

export interface PodManagerDeps {
  readonly runtime: ContainerRuntime;
  readonly node: NodeHandle;
  readonly volumes: VolumeManager;
  readonly env: EnvResolver;
  readonly prober: Prober;
  readonly status: PodStatusSink;
  readonly nodeIp: string;
  /** The node's cluster DNS and host resolver settings (dnsPolicy); absent: sandboxes get none. */
  readonly dns?: PodDnsSettings;
  /** imagePullSecrets' data (PodWorkerDeps.secretData). */
  readonly secretData?: PodWorkerDeps['secretData'];
  readonly allowPrivileged?: boolean;
}

export interface PodManager extends PodManagerHandle {
  /** Starts the checkpointed pods unless the API's list came first (agent restart with the control plane away). */
  restore(): Promise<void>;
  /** Resolves when every update applied so far has been handled (tests). */
  settled(): Promise<void>;
  /** The checkpoint file's path. */
  readonly checkpointPath: string;
}

interface Worker {
  readonly state: WorkerState;
  readonly actor: ActorRefFrom<typeof podWorkerMachine>;
}

/** What of a pod object a restore from the checkpoint depends on: its spec, its deletion, whether it finished. */
function restoreRelevant(pod: Pod): string {
  const phase = pod.status?.phase;
  return JSON.stringify([pod.spec, pod.metadata?.deletionTimestamp ?? null, phase === 'Succeeded' || phase === 'Failed']);
}

function uidOf(pod: Pod): string {
  return pod.metadata?.uid ?? '';
}

export function createPodManager(ctx: AgentContext, deps: PodManagerDeps): PodManager {
  const logger = ctx.logger.child({ component: 'pod-manager' });
  const workers = new Map<string, Worker>();
  const checkpoint = new CheckpointStore({ dir: ctx.dir, nodeName: ctx.nodeName, clock: ctx.clock, logger, wallClock: ctx.wallClock });
  let chain: Promise<void> = Promise.resolve();
  let listed = false;
  let stopped = false;
  /** Sandboxes running when the manager started, by pod uid: adopted by the first worker of that uid. */
  let adoptable: Map<string, PodSandboxStatus> | null = null;

  const snapshot = (): Checkpoint => ({ version: 1, nodeName: ctx.nodeName, pods: [...workers.values()].map((w) => checkpointOf(w.state)) });
  const saveCheckpoint = (): void => {
    if (!stopped) checkpoint.schedule(snapshot);
  };
  const workerDeps: PodWorkerDeps = {
    agentDir: ctx.dir, runtime: deps.runtime, volumes: deps.volumes, env: deps.env, prober: deps.prober, status: deps.status,
    nodeIp: deps.nodeIp, clock: ctx.clock, wallClock: ctx.wallClock, logger, onChange: saveCheckpoint,
    ...(deps.dns !== undefined ? { dns: deps.dns } : {}),
    ...(deps.secretData !== undefined ? { secretData: deps.secretData } : {}),
    ...(deps.allowPrivileged !== undefined ? { allowPrivileged: deps.allowPrivileged } : {}),
  };
  const unsubscribe = deps.runtime.onEvent((event) => workers.get(event.podUid)?.actor.send({ type: 'container.changed' }));

  async function sandboxesByUid(): Promise<Map<string, PodSandboxStatus>> {
    if (adoptable === null) {
      adoptable = new Map();
      for (const sandbox of await deps.runtime.listPodSandboxes()) {
        const uid = sandbox.labels[runtimeLabels.podUid] ?? sandbox.podUid;
        const known = adoptable.get(uid);
        if (sandbox.state === 'ready' && (known === undefined || known.createdAtMs < sandbox.createdAtMs)) adoptable.set(uid, sandbox);
      }
    }
    return adoptable;
  }

  async function startWorker(pod: Pod, restored?: PodCheckpoint): Promise<void> {
    const uid = uidOf(pod);
    const adopt = (await sandboxesByUid()).get(uid) ?? null;
    adoptable?.delete(uid);
    const state = newWorkerState(pod, { startTimeMs: ctx.wallClock().getTime(), restored, adopt });
    const probes: { listener: ProbeListener } = { listener: () => undefined };
    const actor = createActor(podWorkerMachine, { input: { state, deps: workerDeps, probes }, clock: ctx.clock, id: `pod-${uid}` });
    probes.listener = (container, containerId, transition) => actor.send({ type: 'probe.changed', container, containerId, transition });
    const worker: Worker = { state, actor };
    workers.set(uid, worker);
    actor.subscribe({
      next: (snap) => {
        if (snap.status === 'done' && snap.value === 'terminated' && workers.get(uid) === worker) {
          workers.delete(uid);
          saveCheckpoint();
        }
      },
      error: (error) => logger.error('pod worker failed', { uid, error }),
    });
    actor.start();
    saveCheckpoint();
  }

  function send(uid: string, event: PodWorkerEvent): void {
    workers.get(uid)?.actor.send(event);
  }

  async function upsert(pod: Pod): Promise<void> {
    const uid = uidOf(pod);
    if (uid === '') return;
    const worker = workers.get(uid);
    if (worker === undefined) return startWorker(pod);
    // Most updates are our own status writes coming back: the checkpoint needs only what a restore acts on.
    const changed = restoreRelevant(worker.state.pod) !== restoreRelevant(pod);
    send(uid, { type: 'pod.updated', pod });
    if (changed) saveCheckpoint();
  }

  /** Sandboxes of pods this node no longer has: stopped at once and removed (the list is the truth). */
  async function removeOrphans(): Promise<void> {
    for (const sandbox of await deps.runtime.listPodSandboxes()) {
      const uid = sandbox.labels[runtimeLabels.podUid] ?? sandbox.podUid;
      if (workers.has(uid)) continue;
      logger.info('removing orphaned pod sandbox', { uid, sandbox: sandbox.id });
      for (const container of await deps.runtime.listContainers({ sandboxId: sandbox.id })) {
        if (container.state === 'running') await deps.runtime.stopContainer(container.id, 0);
      }
      await deps.runtime.stopPodSandbox(sandbox.id);
      await deps.runtime.removePodSandbox(sandbox.id);
    }
    adoptable = new Map();
  }

  async function handle(update: AssignmentUpdate): Promise<void> {
    if (stopped) return;
    if (update.type === 'upsert') return upsert(update.pod);
    if (update.type === 'delete') return send(update.uid, { type: 'pod.unassigned' });
    const assigned = new Set(update.pods.map(uidOf));
    for (const [uid, worker] of workers) if (!assigned.has(uid)) worker.actor.send({ type: 'pod.unassigned' });
    for (const pod of update.pods) await upsert(pod);
    const first = !listed;
    listed = true;
    if (first) await removeOrphans();
  }

  function enqueue(step: () => Promise<void>): Promise<void> {
    chain = chain.then(step).catch((error: unknown) => logger.warn('pod manager step failed', { error }));
    return chain;
  }

  return {
    checkpointPath: checkpoint.path,
    apply(update) {
      void enqueue(() => handle(update));
    },
    pods() {
      return new Map([...workers].map(([uid, worker]) => [uid, worker.state.pod] as const));
    },
    restore: () => enqueue(async () => {
      const saved = await checkpoint.load();
      if (saved === null || listed || stopped) return;
      logger.info('restoring pods from the checkpoint', { pods: saved.pods.length });
      for (const entry of saved.pods) if (!workers.has(uidOf(entry.pod))) await startWorker(entry.pod, entry);
    }),
    settled: () => enqueue(async () => undefined),
    async stop({ drain }) {
      await enqueue(async () => undefined);
      const all = [...workers.values()];
      if (drain) {
        await Promise.all(all.map((w) => new Promise<void>((resolve) => {
          const subscription = w.actor.subscribe((snap) => {
            if (snap.status === 'done') {
              subscription.unsubscribe();
              resolve();
            }
          });
          w.actor.send({ type: 'pod.drain' });
          if (w.actor.getSnapshot().status === 'done') resolve();
        })));
      }
      // Drained pods stay in the checkpoint: still assigned, they run again when the agent returns.
      checkpoint.schedule(snapshot);
      await checkpoint.flush();
      stopped = true;
      for (const worker of all) worker.actor.send({ type: 'worker.stop' });
      unsubscribe();
    },
  };
}
