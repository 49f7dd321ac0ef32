/**
 * The scheduler's loop, the thin glue around the pure decision: informers keep the cluster cache
 * and the scheduling queue current; one pump pops the next pod, decides (schedule), assumes the
 * pod on its node in the cache at once (so the next decision sees it), and binds it in the
 * background, many bindings in flight up to `bindingsInFlightMax`. A pod no node fits gets
 * preemption's verdict, a PodScheduled=False condition and a FailedScheduling Event.
 *
 * Assume cache: an assumed pod counts on its node until the informer shows it bound (then the
 * informer's copy replaces it), is forgotten at once if its binding fails, and expires
 * `assumedPodTtlMs` after a successful binding the informer never confirmed.
 */
import type { Pod, PersistentVolume, PersistentVolumeClaim, Namespace, Node } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../objects/index.js';
import { isDeleting, isPodTerminal, rfc3339Seconds } from '../objects/index.js';
import { refs } from '../controllers/runtime/resource-refs.js';
import type { ControllerContext, Informer } from '../controllers/runtime/types.js';
import { fitErrorMessage } from './failure-message.js';
import { schedulerLimits, type SchedulerLimits } from './limits.js';
import { podInfo, type PodInfo } from './pod-info.js';
import { claimsToAnnotate, selectedNodeAnnotation } from './plugins/index.js';
import { preempt } from './preemption.js';
import { defaultScheduleConfig, schedule, type Diagnosis, type ScheduleConfig } from './schedule.js';
import { ClusterCache } from './snapshot.js';
import { SchedulingQueue, type ClusterEvent, type QueuedPod } from './scheduling-queue.js';
import { Slots } from './slots.js';

export const defaultSchedulerName = 'default-scheduler';

export interface SchedulerStats {
  decisions: number;
  bound: number;
  unschedulable: number;
  bindFailures: number;
  preemptions: number;
}

interface Assumed {
  readonly node: string;
  expiresAtMs: number | undefined;
}

function isResponsible(pod: Pod): boolean {
  const name = pod.spec?.schedulerName;
  return name === undefined || name === '' || name === defaultSchedulerName;
}

/** Did an update change what a decision reads (spec, labels, annotations), not only status or resourceVersion? */
function schedulingInputsChanged(previous: KubeObject, next: KubeObject): boolean {
  return JSON.stringify(previous['spec']) !== JSON.stringify(next['spec']) ||
    JSON.stringify(previous.metadata.labels) !== JSON.stringify(next.metadata.labels) ||
    JSON.stringify(previous.metadata.annotations) !== JSON.stringify(next.metadata.annotations);
}

/** The pod as an Event's involvedObject (list items may come without apiVersion and kind). */
function asObject(pod: Pod): KubeObject {
  return { ...(pod as unknown as KubeObject), apiVersion: 'v1', kind: 'Pod' };
}

export class SchedulerLoop {
  readonly cache = new ClusterCache();
  readonly queue: SchedulingQueue;
  readonly stats: SchedulerStats = { decisions: 0, bound: 0, unschedulable: 0, bindFailures: 0, preemptions: 0 };
  private readonly assumed = new Map<string, Assumed>();
  private readonly bindings: Slots;
  private readonly sideEffects: Slots;
  private readonly unsubscribe: (() => void)[] = [];
  private pdbs: Informer | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private wakeTimer: number | undefined;
  private housekeepingTimer: number | undefined;
  private nextStart = 0;
  private tieBreak = 0;

  /**
   * `wallClockMs` stamps condition transitions (metav1.Time); injected so tests can fix it. The
   * runtime's context carries only the monotonic clock, hence the Date.now default.
   */
  constructor(private readonly ctx: ControllerContext, private readonly config: ScheduleConfig = defaultScheduleConfig,
    private readonly limits: SchedulerLimits = schedulerLimits, private readonly wallClockMs: () => number = () => Date.now()) {
    this.queue = new SchedulingQueue(ctx.clock, limits);
    this.bindings = new Slots(limits.bindingsInFlightMax);
    this.sideEffects = new Slots(limits.sideEffectsInFlightMax);
  }

  /** Subscribes to the informers (they must be requested before the runtime waits for their sync) and starts the pump. */
  start(): void {
    const informers = this.ctx.informers;
    this.watchInformer(informers.informer(refs.nodes), {
      set: (o) => this.cache.setNode(o as unknown as Node), remove: (o) => this.cache.removeNode(o.metadata.name ?? ''), added: 'NodeAdd', updated: 'NodeUpdate',
    });
    this.watchInformer(informers.informer(refs.persistentvolumeclaims), {
      set: (o) => this.cache.setClaim(o as unknown as PersistentVolumeClaim), remove: (o) => this.cache.setClaim(o as unknown as PersistentVolumeClaim, false), added: 'PvcChange', updated: 'PvcChange',
    });
    this.watchInformer(informers.informer(refs.persistentvolumes), {
      set: (o) => this.cache.setVolume(o as unknown as PersistentVolume), remove: (o) => this.cache.setVolume(o as unknown as PersistentVolume, false), added: 'PvChange', updated: 'PvChange',
    });
    this.watchInformer(informers.informer(refs.storageclasses), {
      set: (o) => this.cache.setStorageClass(o as unknown as StorageClass), remove: (o) => this.cache.setStorageClass(o as unknown as StorageClass, false), added: 'StorageClassChange', updated: 'StorageClassChange',
    });
    this.watchInformer(informers.informer(refs.namespaces), {
      set: (o) => this.cache.setNamespace(o as unknown as Namespace), remove: (o) => this.cache.setNamespace(o as unknown as Namespace, false),
    });
    this.pdbs = informers.informer(refs.poddisruptionbudgets);
    this.unsubscribe.push(informers.informer(refs.pods).addHandlers({
      onAdd: (pod) => this.onPod(pod as unknown as Pod, true),
      onUpdate: (previous, pod) => this.onPod(pod as unknown as Pod, schedulingInputsChanged(previous, pod)),
      onDelete: (pod) => this.onPodDeleted(pod as unknown as Pod),
    }));
    const housekeeping = (): void => {
      if (this.stopped) return;
      this.expireAssumed();
      this.queue.flushStale();
      this.poke();
      this.housekeepingTimer = this.ctx.clock.setTimeout(housekeeping, this.limits.housekeepingIntervalMs);
    };
    this.housekeepingTimer = this.ctx.clock.setTimeout(housekeeping, this.limits.housekeepingIntervalMs);
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.wakeTimer !== undefined) this.ctx.clock.clearTimeout(this.wakeTimer);
    if (this.housekeepingTimer !== undefined) this.ctx.clock.clearTimeout(this.housekeepingTimer);
    this.poke();
  }

  private watchInformer(informer: Informer, on: { set(o: KubeObject): void; remove(o: KubeObject): void; added?: ClusterEvent; updated?: ClusterEvent }): void {
    this.unsubscribe.push(informer.addHandlers({
      onAdd: (o) => { on.set(o); if (on.added) this.moveAll(on.added); },
      onUpdate: (_p, o) => { on.set(o); if (on.updated) this.moveAll(on.updated); },
      onDelete: (o) => on.remove(o),
    }));
  }

  private moveAll(event: ClusterEvent): void {
    this.queue.moveAll(event);
    this.poke();
  }

  private onPod(pod: Pod, relevant: boolean): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const nodeName = pod.spec?.nodeName;
    if (nodeName !== undefined && nodeName !== '') {
      this.queue.delete(key);
      this.assumed.delete(key);
      const info = podInfo(pod);
      this.cache.setNominated(info, undefined);
      if (isPodTerminal(pod)) {
        if (this.cache.nodeOfPod(key) !== undefined) { this.cache.removePod(key); this.moveAll('AssignedPodDelete'); }
        return;
      }
      this.cache.setPod(info, nodeName);
      return;
    }
    if (!isResponsible(pod) || isDeleting(pod) || isPodTerminal(pod)) { this.queue.delete(key); return; }
    if (this.assumed.has(key)) return; // our own decision is being bound; the informer is behind it
    const info = podInfo(pod);
    this.cache.setNominated(info, pod.status?.nominatedNodeName);
    try {
      this.queue.add(info, { relevantUpdate: relevant });
    } catch (error) {
      this.ctx.logger.warn('scheduling queue full; pod left for a later resync', { pod: key, error });
    }
    this.poke();
  }

  private onPodDeleted(pod: Pod): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    this.queue.delete(key);
    this.assumed.delete(key);
    this.cache.setNominated(podInfo(pod), undefined);
    if (this.cache.nodeOfPod(key) !== undefined) {
      this.cache.removePod(key);
      this.moveAll('AssignedPodDelete');
    }
  }

  private expireAssumed(): void {
    const now = this.ctx.clock.now();
    for (const [key, a] of this.assumed) {
      if (a.expiresAtMs !== undefined && a.expiresAtMs <= now) {
        this.assumed.delete(key);
        if (this.cache.nodeOfPod(key) === a.node) this.cache.removePod(key);
      }
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async idle(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      const next = this.queue.nextBackoffMs();
      if (next !== undefined) {
        if (this.wakeTimer !== undefined) this.ctx.clock.clearTimeout(this.wakeTimer);
        this.wakeTimer = this.ctx.clock.setTimeout(() => { this.wakeTimer = undefined; this.poke(); }, Math.max(0, next - this.ctx.clock.now()));
      }
    });
  }

  private async run(): Promise<void> {
    try {
      await this.ctx.informers.waitForSync(this.limits.informerSyncTimeoutMs);
    } catch (error) {
      this.ctx.logger.warn('scheduler informers did not sync; deciding on what is known', { error });
    }
    while (!this.stopped) {
      let decided = 0;
      while (!this.stopped && decided < this.limits.decisionsPerTurnMax) {
        if (this.bindings.full) await this.bindings.acquire().then(() => this.bindings.release());
        const entry = this.queue.pop();
        if (entry === undefined) break;
        this.scheduleOne(entry);
        decided++;
      }
      if (this.stopped) break;
      if (decided > 0) await new Promise<void>((resolve) => setImmediate(resolve)); // let informer events and replies in
      else await this.idle();
    }
  }

  /** One scheduling cycle: decide, then assume and bind, or report why not. */
  scheduleOne(entry: QueuedPod): void {
    const pod = entry.info;
    const result = schedule(pod, this.cache, { ...this.config, startIndex: this.nextStart, tieBreak: this.tieBreak++ });
    this.nextStart = result.nextStartIndex;
    this.stats.decisions++;
    if ('node' in result) {
      const claims = claimsToAnnotate(pod, this.cache, result.node);
      this.cache.setPod(pod, result.node);
      this.cache.setNominated(pod, undefined);
      this.assumed.set(pod.key, { node: result.node, expiresAtMs: undefined });
      void this.bindings.run(() => this.bind(entry, result.node, claims));
      return;
    }
    this.unschedulable(entry, result.unschedulable);
  }

  private async bind(entry: QueuedPod, node: string, claims: readonly string[]): Promise<void> {
    const pod = entry.info;
    const name = pod.pod.metadata?.name ?? '';
    try {
      for (const claim of claims) {
        await this.ctx.api.patch(refs.persistentvolumeclaims, pod.namespace, claim, { metadata: { annotations: { [selectedNodeAnnotation]: node } } }, 'merge');
      }
      await this.ctx.api.create(refs.pods, pod.namespace, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: pod.namespace, ...(pod.pod.metadata?.uid ? { uid: pod.pod.metadata.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      }, { subresource: 'binding', name });
      this.stats.bound++;
      const a = this.assumed.get(pod.key);
      if (a !== undefined && a.node === node) a.expiresAtMs = this.ctx.clock.now() + this.limits.assumedPodTtlMs;
      this.queue.done(pod.key);
      this.ctx.events.record(asObject(pod.pod), 'Normal', 'Scheduled', `Successfully assigned ${pod.namespace}/${name} to ${node}`);
    } catch (error) {
      this.stats.bindFailures++;
      if (this.assumed.get(pod.key)?.node === node) {
        this.assumed.delete(pod.key);
        if (this.cache.nodeOfPod(pod.key) === node) this.cache.removePod(pod.key);
      }
      const status = (error as { httpStatus?: number }).httpStatus;
      if (status === 404) {
        this.queue.delete(pod.key);
      } else {
        this.queue.retry(entry);
        const message = error instanceof Error ? error.message : String(error);
        this.ctx.events.record(asObject(pod.pod), 'Warning', 'FailedScheduling', `Binding rejected: ${message}`);
      }
      this.ctx.logger.debug('binding failed', { pod: pod.key, node, error });
      this.poke();
    }
  }

  private unschedulable(entry: QueuedPod, diagnosis: Diagnosis): void {
    const pod = entry.info;
    this.stats.unschedulable++;
    const outcome = preempt(pod, this.cache, { diagnosis, filters: this.config.filters, pdbs: (this.pdbs?.list() ?? []) as unknown as PodDisruptionBudget[] });
    let post = '';
    if ('victims' in outcome) {
      this.stats.preemptions++;
      this.cache.setNominated(pod, outcome.node);
      void this.sideEffects.run(() => this.evict(pod, outcome.node, outcome.victims));
    } else {
      post = outcome.message;
    }
    const message = fitErrorMessage(diagnosis, post);
    this.queue.unschedulable(entry);
    void this.sideEffects.run(() => this.reportUnschedulable(pod, message));
  }

  private async evict(pod: PodInfo, node: string, victims: readonly PodInfo[]): Promise<void> {
    const name = pod.pod.metadata?.name ?? '';
    try {
      await this.ctx.api.patch(refs.pods, pod.namespace, name, { status: { nominatedNodeName: node } }, 'merge', { subresource: 'status' });
    } catch (error) {
      this.ctx.logger.debug('setting nominatedNodeName failed', { pod: pod.key, error });
    }
    for (const victim of victims) {
      const victimName = victim.pod.metadata?.name ?? '';
      try {
        this.ctx.events.record(asObject(victim.pod), 'Normal', 'Preempted', `Preempted by pod ${pod.pod.metadata?.uid ?? pod.key} on node ${node}`);
        await this.ctx.api.delete(refs.pods, victim.namespace, victimName, victim.pod.metadata?.uid ? { preconditions: { uid: victim.pod.metadata.uid } } : {});
      } catch (error) {
        this.ctx.logger.debug('preemption delete failed', { victim: victim.key, error });
      }
    }
  }

  private async reportUnschedulable(pod: PodInfo, message: string): Promise<void> {
    const name = pod.pod.metadata?.name ?? '';
    this.ctx.events.record(asObject(pod.pod), 'Warning', 'FailedScheduling', message);
    const current = pod.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    // The transition time moves only when the status flips (as setCondition does for stored conditions).
    const now = rfc3339Seconds(this.wallClockMs());
    const lastTransitionTime = current?.status === 'False' ? current.lastTransitionTime ?? now : now;
    const condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime };
    try {
      await this.ctx.api.patch(refs.pods, pod.namespace, name, { status: { conditions: [condition] } }, 'strategic', { subresource: 'status' });
    } catch (error) {
      this.ctx.logger.debug('PodScheduled condition patch failed', { pod: pod.key, error });
    }
  }
}
