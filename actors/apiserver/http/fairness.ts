/**
 * Fairness under load, after Kubernetes' API Priority and Fairness, simplified: every
 * non-streaming request is classified into a priority level by who sends it and what it touches;
 * each level owns a share of the member's in-flight seats; inside a level each user (a flow) has
 * its own bounded queue and queues are served round-robin. A client that floods fills its own
 * queue and gets 429 with Retry-After, while other users of its level wait at most one turn and
 * node heartbeats, leader election and system components keep the seats of their own levels.
 *
 * Decision: seats are not borrowed between levels. Borrowing lets idle capacity serve a flood,
 * but then a burst of heartbeats finds its seats taken; with levels this small the isolation is
 * worth more than the utilisation.
 *
 * Decision: `system:masters` is exempt (as in Kubernetes): the operator's admin credentials must
 * work during an overload they are trying to fix.
 *
 * Decision: a request takes its seat only once its body has arrived (api-server.ts reads it first,
 * within `bodyReadTimeoutMs`), and one user holds at most `flowSeatsShareMax` of its level's seats.
 * Sixty connections with stalled bodies used to hold every seat of their level, so other users of
 * the level waited the whole queue bound and got 429.
 */
import type { Clock, TimerId } from '../../../bus/index.js';
import { apiErrors, type ApiError } from '../status.js';
import type { UserInfo } from '../types.js';

export type PriorityLevel = 'exempt' | 'node' | 'leader-election' | 'system' | 'workload' | 'global-default';

/**
 * Shares of the in-flight seats, from Kubernetes' default nominal concurrency shares (system 30,
 * leader-election 10, workload-high 40, workload-low 100, global-default 20, catch-all 5), folded
 * into our fewer levels: nodes get the `system` share, system components `workload-high`.
 */
export const levelShares: Readonly<Record<Exclude<PriorityLevel, 'exempt'>, number>> = {
  node: 30,
  'leader-election': 10,
  system: 40,
  workload: 100,
  'global-default': 25,
};

export const fairnessLimits = {
  /** Requests one user may have waiting in one level: Kubernetes' default queue length limit is 50. */
  flowQueueMax: 50,
  /** Requests waiting in one level across all its users: past this, the level itself is overloaded. */
  levelQueueMax: 500,
  /**
   * The longest a request waits for a seat before 429. Kubernetes waits up to a quarter of the
   * request timeout (15 s); ours is shorter because our writes must answer within 2 s of a
   * quorum loss, and a request that waited 5 s for a seat is better retried by its client.
   */
  queueWaitMs: 5_000,
  /**
   * The share of its level's seats one user may hold at once. Kubernetes' fair queuing has no such
   * cap (it relies on requests being short), but a user whose requests are slow (a body that
   * trickles, a webhook that stalls) could otherwise hold every seat of its level; with half, any
   * other user of the level finds a seat within one request of the first user.
   */
  flowSeatsShareMax: 0.5,
  /**
   * The longest a request body may take to arrive, read before the request takes its seat: a
   * stalled body then holds no seat. 3 MiB (the body bound) in 10 s is 300 KiB/s, far below
   * any client on a network that reaches the API; kubectl's bodies take milliseconds.
   */
  bodyReadTimeoutMs: 10_000,
} as const;

/** Requests a member takes in before authentication: every seat plus every level's full queue. */
export function admittedMax(limits: { readonly inFlightMax: number }): number {
  return limits.inFlightMax + fairnessLimits.levelQueueMax * Object.keys(levelShares).length;
}

export interface FairnessRequest {
  readonly user: UserInfo;
  readonly verb: string;
  readonly resource: string | null;
  readonly namespace: string | null;
}

/** Which level a request belongs to: the order matters, the first rule that matches wins. */
export function classify(request: FairnessRequest): PriorityLevel {
  const { user } = request;
  if (user.groups.includes('system:masters')) return 'exempt';
  if (user.groups.includes('system:nodes')) return 'node';
  const systemComponent = ['system:kube-scheduler', 'system:kube-controller-manager', 'system:kube-proxy', 'system:cloud-controller-manager'].includes(user.name)
    || user.name.startsWith('system:serviceaccount:kube-system:');
  if (systemComponent && request.resource === 'leases' && request.namespace === 'kube-system') return 'leader-election';
  if (systemComponent) return 'system';
  if (user.name.startsWith('system:serviceaccount:')) return 'workload';
  return 'global-default';
}

interface Waiter {
  readonly flow: string;
  readonly grant: () => void;
  readonly timer: TimerId;
}

/**
 * One priority level: its seats, and per user (flow) a queue and the seats it holds. Seats go to
 * waiting flows in turn, skipping a flow that already holds `flowSeatsMax`.
 */
class Level {
  inFlight = 0;
  queued = 0;
  private readonly flows = new Map<string, Waiter[]>();
  /** Round-robin order of flows with waiting requests. */
  private readonly order: string[] = [];
  private readonly seatsByFlow = new Map<string, number>();

  constructor(readonly name: PriorityLevel, readonly seats: number, readonly flowSeatsMax: number) {}

  enqueue(waiter: Waiter): void {
    let queue = this.flows.get(waiter.flow);
    if (queue === undefined) {
      queue = [];
      this.flows.set(waiter.flow, queue);
      this.order.push(waiter.flow);
    }
    queue.push(waiter);
    this.queued += 1;
  }

  flowLength(flow: string): number {
    return this.flows.get(flow)?.length ?? 0;
  }

  /** Takes a waiter out (its wait timed out); false when it was already granted. */
  remove(waiter: Waiter): boolean {
    const queue = this.flows.get(waiter.flow);
    const index = queue?.indexOf(waiter) ?? -1;
    if (queue === undefined || index < 0) return false;
    queue.splice(index, 1);
    this.queued -= 1;
    if (queue.length === 0) this.dropFlow(waiter.flow);
    return true;
  }

  /** Grants free seats to waiting flows in turn, as long as a flow under its seat bound waits. */
  dispatch(): void {
    while (this.inFlight < this.seats) {
      const waiter = this.nextEligible();
      if (waiter === null) return;
      this.inFlight += 1;
      this.seatsByFlow.set(waiter.flow, (this.seatsByFlow.get(waiter.flow) ?? 0) + 1);
      waiter.grant();
    }
  }

  release(flow: string): void {
    this.inFlight -= 1;
    const held = (this.seatsByFlow.get(flow) ?? 1) - 1;
    if (held === 0) this.seatsByFlow.delete(flow);
    else this.seatsByFlow.set(flow, held);
    this.dispatch();
  }

  /** The first waiter of the next flow in turn that holds fewer than `flowSeatsMax` seats. */
  private nextEligible(): Waiter | null {
    for (let scanned = 0; scanned < this.order.length; scanned++) {
      const flow = this.order.shift() as string;
      if ((this.seatsByFlow.get(flow) ?? 0) >= this.flowSeatsMax) {
        this.order.push(flow);
        continue;
      }
      const queue = this.flows.get(flow) as Waiter[];
      const waiter = queue.shift() as Waiter;
      this.queued -= 1;
      if (queue.length === 0) this.flows.delete(flow);
      else this.order.push(flow);
      return waiter;
    }
    return null;
  }

  private dropFlow(flow: string): void {
    this.flows.delete(flow);
    const at = this.order.indexOf(flow);
    if (at >= 0) this.order.splice(at, 1);
  }
}

export interface FairnessStats {
  readonly level: PriorityLevel;
  readonly seats: number;
  readonly inFlight: number;
  readonly queued: number;
}

export class FairQueues {
  private readonly levels = new Map<PriorityLevel, Level>();

  constructor(private readonly options: { readonly inFlightMax: number; readonly retryAfterSeconds: number; readonly clock: Clock }) {
    const total = Object.values(levelShares).reduce((sum, share) => sum + share, 0);
    for (const [name, share] of Object.entries(levelShares) as [Exclude<PriorityLevel, 'exempt'>, number][]) {
      // At least one seat each, so no level can be starved by rounding.
      const seats = Math.max(1, Math.floor((options.inFlightMax * share) / total));
      this.levels.set(name, new Level(name, seats, Math.max(1, Math.ceil(seats * fairnessLimits.flowSeatsShareMax))));
    }
  }

  /**
   * Waits for a seat of the request's level; resolves with the function that gives it back.
   * Rejects with 429 when the user's queue or the level's queue is full, or the wait times out.
   */
  acquire(request: FairnessRequest): Promise<() => void> {
    const levelName = classify(request);
    if (levelName === 'exempt') return Promise.resolve(() => undefined);
    const level = this.levels.get(levelName) as Level;
    const flow = request.user.name;
    if (level.flowLength(flow) >= fairnessLimits.flowQueueMax || level.queued >= fairnessLimits.levelQueueMax) {
      return Promise.reject(this.tooMany(levelName));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        flow,
        grant: () => {
          this.options.clock.clearTimeout(waiter.timer);
          resolve(this.releaser(level, flow));
        },
        timer: this.options.clock.setTimeout(() => {
          if (level.remove(waiter)) reject(this.tooMany(levelName));
        }, fairnessLimits.queueWaitMs),
      };
      level.enqueue(waiter);
      level.dispatch();
    });
  }

  stats(): FairnessStats[] {
    return [...this.levels.values()].map((level) => ({ level: level.name, seats: level.seats, inFlight: level.inFlight, queued: level.queued }));
  }

  private releaser(level: Level, flow: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      level.release(flow);
    };
  }

  private tooMany(level: PriorityLevel): ApiError {
    return apiErrors.tooManyRequests(this.options.retryAfterSeconds, `too many requests in priority level "${level}"; retry after ${this.options.retryAfterSeconds} s`);
  }
}
