/**
 * The scheduling queue, as Kubernetes' PriorityQueue: pending pods wait in activeQ (highest
 * priority first, then oldest), a pod that failed waits out its backoff (1 s doubling to 10 s) in
 * backoffQ, and a pod no node fits waits in the unschedulable set until a cluster event that could
 * help (a node added or updated, a pod deleted, a volume or claim changed) moves it back, or until
 * `podMaxInUnschedulableMs` passes. An event that arrives while a pod is being decided sends that
 * pod, if it fails, to backoffQ rather than the unschedulable set, so the event is not lost.
 *
 * Decision: lazy deletion. The heaps hold entries; the `entries` map says which entry is current,
 * so a pod updated or deleted while queued costs O(1) and its stale heap entry is skipped on pop.
 */
import type { Clock } from '../../bus/clock.js';
import { KubusError } from '../../bus/errors.js';
import { Heap } from './heap.js';
import type { SchedulerLimits } from './limits.js';
import type { PodInfo } from './pod-info.js';

export class SchedulingQueueFullError extends KubusError {
  override readonly name = 'SchedulingQueueFullError';
  readonly code = 'schedulingQueueFull';
}

export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodDelete' | 'PvcChange' | 'PvChange' | 'StorageClassChange';

export interface QueuedPod {
  info: PodInfo;
  /** Failed attempts so far: the backoff doubles with each. */
  attempts: number;
  readonly seq: number;
  readonly createdMs: number;
  backoffUntilMs: number;
  where: 'active' | 'backoff' | 'unschedulable' | 'inFlight';
  unschedulableSinceMs: number;
  /** The move-request cycle when the pod was popped. */
  poppedAtCycle: number;
}

function createdMs(info: PodInfo): number {
  const t = Date.parse(info.pod.metadata?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : 0;
}

export class SchedulingQueue {
  private readonly entries = new Map<string, QueuedPod>();
  private readonly active = new Heap<QueuedPod>((a, b) =>
    a.info.priority !== b.info.priority ? a.info.priority > b.info.priority : a.createdMs !== b.createdMs ? a.createdMs < b.createdMs : a.seq < b.seq);
  private readonly backoff = new Heap<QueuedPod>((a, b) => a.backoffUntilMs < b.backoffUntilMs);
  private seq = 0;
  /** Bumped by every event that moves pods, so a pod in flight knows an event happened meanwhile. */
  private moveCycle = 0;

  constructor(private readonly clock: Pick<Clock, 'now'>, private readonly limits: Pick<SchedulerLimits, 'podInitialBackoffMs' | 'podMaxBackoffMs' | 'podMaxInUnschedulableMs' | 'queuedPodsMax'>) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Counts by place, for tests and progress. */
  counts(): Record<QueuedPod['where'], number> {
    const out = { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 };
    for (const e of this.entries.values()) out[e.where]++;
    return out;
  }

  /**
   * A pending pod seen (added or updated). An update that changed what scheduling reads (spec,
   * labels) may make an unschedulable pod fit: it moves; a status-only update (our own
   * PodScheduled condition) must not, or every failure would retry itself.
   */
  add(info: PodInfo, options: { readonly relevantUpdate?: boolean } = {}): void {
    const existing = this.entries.get(info.key);
    if (existing !== undefined) {
      existing.info = info;
      if (existing.where === 'unschedulable' && options.relevantUpdate !== false) this.requeue(existing);
      return;
    }
    if (this.entries.size >= this.limits.queuedPodsMax) throw new SchedulingQueueFullError(`scheduling queue holds ${this.entries.size} pods (queuedPodsMax)`);
    const entry: QueuedPod = { info, attempts: 0, seq: this.seq++, createdMs: createdMs(info), backoffUntilMs: 0, where: 'active', unschedulableSinceMs: 0, poppedAtCycle: 0 };
    this.entries.set(info.key, entry);
    this.active.push(entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The next pod to decide, or undefined; it stays known (in flight) until done / requeued. */
  pop(): QueuedPod | undefined {
    this.flush();
    for (;;) {
      const entry = this.active.pop();
      if (entry === undefined) return undefined;
      if (this.entries.get(entry.info.key) !== entry || entry.where !== 'active') continue;
      entry.where = 'inFlight';
      entry.poppedAtCycle = this.moveCycle;
      return entry;
    }
  }

  /** Decided and bound (or gone): forget it. */
  done(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.where === 'inFlight') this.entries.delete(key);
  }

  /** No node fits: wait for an event (or, if one came while deciding, for the backoff). */
  unschedulable(entry: QueuedPod): void {
    if (this.entries.get(entry.info.key) !== entry) return;
    entry.attempts++;
    entry.backoffUntilMs = this.clock.now() + this.backoffMs(entry.attempts);
    if (this.moveCycle > entry.poppedAtCycle) {
      this.toBackoff(entry);
      return;
    }
    entry.where = 'unschedulable';
    entry.unschedulableSinceMs = this.clock.now();
  }

  /** A transient failure (binding refused, API error): retry after the backoff. */
  retry(entry: QueuedPod): void {
    if (this.entries.get(entry.info.key) !== entry) return;
    entry.attempts++;
    entry.backoffUntilMs = this.clock.now() + this.backoffMs(entry.attempts);
    this.toBackoff(entry);
  }

  /** A cluster event that could make unschedulable pods fit: all of them move back. */
  moveAll(_event: ClusterEvent): void {
    this.moveCycle++;
    for (const entry of this.entries.values()) if (entry.where === 'unschedulable') this.requeue(entry);
  }

  /** When the next backed-off pod becomes ready, or undefined when none waits. */
  nextBackoffMs(): number | undefined {
    for (;;) {
      const top = this.backoff.peek();
      if (top === undefined) return undefined;
      if (this.entries.get(top.info.key) === top && top.where === 'backoff') return top.backoffUntilMs;
      this.backoff.pop();
    }
  }

  backoffMs(attempts: number): number {
    const doubled = this.limits.podInitialBackoffMs * 2 ** Math.max(0, attempts - 1);
    return Math.min(doubled, this.limits.podMaxBackoffMs);
  }

  /** Moves backed-off pods whose time came, and unschedulable pods waiting too long. */
  flush(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.backoff.peek();
      if (top === undefined || top.backoffUntilMs > now) break;
      this.backoff.pop();
      if (this.entries.get(top.info.key) !== top || top.where !== 'backoff') continue;
      top.where = 'active';
      this.active.push(top);
    }
  }

  /** Unschedulable pods no event moved for podMaxInUnschedulableMs go back (a missed event must not strand them). */
  flushStale(): void {
    const now = this.clock.now();
    for (const entry of this.entries.values()) {
      if (entry.where === 'unschedulable' && now - entry.unschedulableSinceMs >= this.limits.podMaxInUnschedulableMs) this.requeue(entry);
    }
  }

  private requeue(entry: QueuedPod): void {
    if (entry.backoffUntilMs > this.clock.now()) this.toBackoff(entry);
    else {
      entry.where = 'active';
      this.active.push(entry);
    }
  }

  private toBackoff(entry: QueuedPod): void {
    entry.where = 'backoff';
    this.backoff.push(entry);
  }
}
