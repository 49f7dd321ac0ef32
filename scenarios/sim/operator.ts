/**
 * The simulated operator: changes membership and moves leadership while clients write, through
 * the real StoreClient, as `kubus member` would. Its plan is drawn from the seed and depends on
 * the topology:
 * - one voter: grow to three (add learner → promote, twice), sometimes shrink back to one, or
 *   keep learners beside the single voter for a while before promoting one;
 * - three or five voters: replace the leader (add a learner, promote it, remove the leader),
 *   shrink to one voter (removing the leader first), or move leadership around;
 * - leadership transfers are sprinkled into every plan.
 * A step is asked again until it is done or the plan's time is up; a member removed from the
 * configuration is then retired (its process stopped for good).
 */
import { BusTimeoutError, type Prng } from '../../bus/index.js';
import { InvalidConfChangeError, OutcomeUnknownError, StoreClient, type ConfChange } from '../../store/index.js';
import type { SimCluster } from './sim-cluster.js';
import { notAppliedCodes } from './workload.js';

type Step =
  | { readonly type: 'addLearner' }
  | { readonly type: 'promote' }
  | { readonly type: 'remove'; readonly which: 'leader' | 'follower' }
  | { readonly type: 'transfer' };

/** Refusals that mean "not now, ask again later". */
const tryLaterCodes: ReadonlySet<string> = new Set(['confChangeInProgress', 'learnerNotReady']);

export const operatorLimits = {
  /** Attempts of one step before the operator moves on. */
  attemptsPerStepMax: 20,
  /** Pause between attempts and between steps. */
  pauseMs: { min: 20, max: 200 },
  callTimeoutMs: 1_500,
  /** How long a removed member may wait for its removal to be durable everywhere before it is stopped. */
  retireWaitMs: 3_000,
} as const;

export class Operator {
  readonly plan: string;
  private readonly steps: Step[];
  private running = false;
  private readonly client: StoreClient;
  /** Learners added and not yet promoted, oldest first. */
  private readonly learners: string[] = [];
  done = 0;
  private disarms = 0;
  readonly unexpected: string[] = [];

  constructor(private readonly cluster: SimCluster, private readonly random: Prng) {
    this.client = new StoreClient({
      bus: cluster.network.connect('operator'), cluster: cluster.cluster, members: cluster.memberIds,
      clock: cluster.clock, random: random.fork(), callTimeoutMs: operatorLimits.callTimeoutMs, attemptTimeoutMs: 500,
    });
    const { plan, steps } = choosePlan(cluster.initialVoters.length, cluster.unused().length, random);
    this.plan = plan;
    this.steps = steps;
  }

  start(): void {
    this.running = true;
    void this.runPlan();
  }

  stop(): void {
    this.running = false;
  }

  /** `kubus alarm disarm` once space was freed: asked until it applies or the attempts run out. */
  async disarmAlarms(): Promise<void> {
    for (let attempt = 0; attempt < operatorLimits.attemptsPerStepMax; attempt++) {
      try {
        await this.client.write({ type: 'alarmDisarm' }, { requestId: `disarm-${++this.disarms}` });
        return;
      } catch (error) {
        if (!isExpected(error)) {
          this.unexpected.push(`alarm disarm at ${this.cluster.clock.now()} ms: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
          return;
        }
      }
      await this.pause();
    }
  }

  private async runPlan(): Promise<void> {
    await this.pause();
    for (const step of this.steps) {
      if (!this.running) return;
      await this.perform(step);
      await this.pause();
    }
  }

  private async perform(step: Step): Promise<void> {
    for (let attempt = 0; attempt < operatorLimits.attemptsPerStepMax && this.running; attempt++) {
      const change = this.changeFor(step);
      if (change === null) return;
      try {
        if (change === 'transfer') await this.transfer();
        else await this.client.changeMembership(change);
        this.after(change);
        this.done++;
        return;
      } catch (error) {
        if (change !== 'transfer' && (error instanceof InvalidConfChangeError || error instanceof OutcomeUnknownError || error instanceof BusTimeoutError)) {
          // Asked before and maybe applied ("member exists"): the configuration says whether it is done.
          if (this.applied(change)) {
            this.after(change);
            this.done++;
            return;
          }
          if (error instanceof InvalidConfChangeError) return;
        } else if (!isExpected(error)) {
          this.unexpected.push(`${step.type} at ${this.cluster.clock.now()} ms: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
          return;
        }
      }
      await this.pause();
    }
  }

  /** The concrete change a step means now, or null when it makes no sense any more. */
  private changeFor(step: Step): ConfChange | 'transfer' | null {
    const conf = this.cluster.conf();
    if (conf === null) return null;
    switch (step.type) {
      case 'addLearner': {
        const pending = this.learners.find((id) => !conf.voters.includes(id) && !conf.learners.includes(id) && !this.cluster.isRetired(id));
        const id = pending ?? this.cluster.unused()[0];
        if (id === undefined) return null;
        // The process runs before it is added, as an operator starts the new member first.
        this.cluster.start(id);
        if (!this.learners.includes(id)) this.learners.push(id);
        return { type: 'addLearner', member: id };
      }
      case 'promote': {
        const id = this.learners.find((learner) => conf.learners.includes(learner));
        return id === undefined ? null : { type: 'promote', member: id };
      }
      case 'remove': {
        if (conf.voters.length <= 1) return null;
        const leader = this.cluster.leader();
        const followers = conf.voters.filter((id) => id !== leader);
        const id = step.which === 'leader' && leader !== null && conf.voters.includes(leader) ? leader : this.random.pick(followers);
        return { type: 'remove', member: id };
      }
      case 'transfer':
        return conf.voters.length > 1 ? 'transfer' : null;
    }
  }

  private async transfer(): Promise<void> {
    const conf = this.cluster.conf();
    const leader = this.cluster.leader();
    const candidates = (conf?.voters ?? []).filter((id) => id !== leader);
    if (candidates.length === 0) return;
    await this.client.transferLeadership(this.random.pick(candidates));
  }

  private applied(change: ConfChange): boolean {
    const conf = this.cluster.conf();
    if (conf === null) return false;
    switch (change.type) {
      case 'addLearner':
        return conf.learners.includes(change.member) || conf.voters.includes(change.member);
      case 'promote':
        return conf.voters.includes(change.member);
      case 'remove':
        return !conf.voters.includes(change.member) && !conf.learners.includes(change.member);
    }
  }

  private after(change: ConfChange | 'transfer'): void {
    if (change === 'transfer') return;
    if (change.type === 'promote') this.learners.splice(this.learners.indexOf(change.member), 1);
    if (change.type === 'remove') void this.retireWhenDurable(change.member);
  }

  /**
   * Stops a removed member once every remaining voter holds its removal durably applied. Stopped
   * earlier, a remaining voter that crashes and restarts before then (its apply not yet durable)
   * counts the removed member again and waits for its vote forever: an operator error, not a
   * store defect. Given up after a bound: the member then keeps running outside the configuration.
   */
  private async retireWhenDurable(member: string): Promise<void> {
    const target = Math.max(0, ...this.cluster.memberIds.map((id) => this.cluster.driver(id)?.raftStatus().applied ?? 0));
    const deadline = this.cluster.clock.now() + operatorLimits.retireWaitMs;
    while (this.cluster.clock.now() < deadline) {
      const voters = this.cluster.conf()?.voters.filter((id) => id !== member) ?? [];
      if (voters.length > 0 && voters.every((id) => this.cluster.durableApplied(id) >= target)) {
        this.cluster.retire(member);
        return;
      }
      await new Promise<void>((resolve) => this.cluster.clock.setTimeout(resolve, 20));
    }
  }

  private pause(): Promise<void> {
    const ms = this.random.between(operatorLimits.pauseMs.min, operatorLimits.pauseMs.max);
    return new Promise((resolve) => this.cluster.clock.setTimeout(resolve, ms));
  }
}

function isExpected(error: unknown): boolean {
  if (error instanceof OutcomeUnknownError || error instanceof BusTimeoutError) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (notAppliedCodes.has(code) || tryLaterCodes.has(code) || code === 'invalidConfChange');
}

function choosePlan(voters: number, spares: number, random: Prng): { plan: string; steps: Step[] } {
  const add: Step = { type: 'addLearner' };
  const promote: Step = { type: 'promote' };
  const transfer: Step = { type: 'transfer' };
  const plans: { plan: string; steps: Step[] }[] = voters === 1
    ? [
        { plan: 'grow 1→3', steps: [add, promote, add, promote, transfer] },
        { plan: 'grow 1→3, shrink 3→1', steps: [add, promote, add, promote, transfer, { type: 'remove', which: 'leader' }, { type: 'remove', which: 'follower' }] },
        { plan: 'one voter with learners', steps: [add, add, transfer, promote] },
      ]
    : [
        { plan: 'replace the leader', steps: [add, promote, { type: 'remove', which: 'leader' }, transfer] },
        { plan: `shrink ${voters}→1`, steps: [{ type: 'remove', which: 'leader' }, ...Array.from({ length: voters - 2 }, (): Step => ({ type: 'remove', which: 'follower' })), add] },
        { plan: 'transfers', steps: [transfer, transfer, add, transfer, promote] },
      ];
  const usable = plans.filter((candidate) => candidate.steps.filter((step) => step.type === 'addLearner').length <= spares);
  return random.pick(usable.length > 0 ? usable : plans);
}
