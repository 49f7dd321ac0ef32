/**
 * Liveness probes on the healed cluster: what safety checks cannot see, because it ends in a
 * timeout that the history accepts as "unknown", or in a leader that commits nothing.
 *
 * Each round, drawn from the seed, moves or cuts off the leader L while probing:
 * - transfer: leadership moves L → T while follower reads go to every member every few ms. Reads
 *   L had not confirmed when it stepped down are lost inside L; every member learns T at once and
 *   must fail them then, not wait out their deadline (d0a51e5).
 * - cutOffReader: L and one member F are cut off from the rest, and L's voters with F's are short
 *   of a quorum (F is a learner, or there are five voters), so L steps down in its own term while
 *   F still takes it for the leader: F's ReadIndex goes to L, which refuses it, and F must answer
 *   its client at once (87d3584). Only reads invoked at F after L stopped leading count: a read L
 *   had taken before stepping down is dropped with no answer (a known limit, it fails at F's next
 *   election).
 * - cutOffHearing: quorum−1 voters S are cut off from the rest with L and hear nothing from L,
 *   while their messages (pre-votes: they no longer hear a leader) still reach L. L hears no
 *   answer in its term from a quorum, so check-quorum must make it step down within two election
 *   timeouts (fa5ae7a: it counted any message, and the pre-votes kept it leader).
 * - promoteBehind: a learner (one is added from the spares if there is none) is paused until the
 *   leader no longer hears it, then the operator asks to promote it. Promoted, it would be a
 *   voter that cannot acknowledge anything (with one voter, the cluster could commit nothing
 *   until it comes back), so the promotion must be refused (d7116a6): writes must still commit
 *   within `writeBoundMs` after the attempt, while the learner is still paused.
 * Every read that counts must end within `answerBoundMs`; a cut-off leader must stop leading
 * within `stepDownBoundMs` of the cut.
 */
import type { Prng } from '../../bus/index.js';
import { StoreClient } from '../../store/index.js';
import type { SimCluster } from './sim-cluster.js';

export const livenessProbeLimits = {
  rounds: 3,
  /**
   * A read answered by a reachable leader, or refused by a member that is not one, takes a few
   * hops of 1-3 ms plus 2 ms simulation steps: 60 ms is far above that and well under the
   * driver's read deadline (two election timeouts, 200 ms in the simulation), which is what a
   * lost read waits.
   */
  answerBoundMs: 60,
  /**
   * Check-quorum looks once per election timeout (100 ms) at who answered within the last one:
   * the last answer arrives within a few ms of the cut, so a correct leader steps down at the
   * second look at the latest, 200 ms plus a tick and the network's delay.
   */
  stepDownBoundMs: 250,
  /** A healthy leader commits a write in a few round trips: three election timeouts is plenty. */
  writeBoundMs: 300,
  /** The promotion is answered within this (the control client's attempt deadline is 500 ms). */
  promoteAnswerMs: 1_000,
  /** A learner paused this long is no longer among those the leader heard from (one election timeout). */
  learnerPauseMs: 250,
  /** A spare added as a learner gets this long to catch up before it is paused. */
  learnerJoinMs: 400,
  /** Pause between two bursts of reads. */
  readEveryMs: { min: 2, max: 6 },
  /** Reads are sent, and the cut lasts, this long. */
  probeMs: 300,
  /** After a round: pending reads reach their deadlines and the cluster settles under one leader. */
  settleMs: 500,
  /** Steps while waiting for earlier faults' timers: only timers matter then. */
  idleStepMs: 10,
  /** Failures kept for the report. */
  keptMax: 5,
} as const;

export type RoundKind = 'transfer' | 'cutOffReader' | 'cutOffHearing' | 'promoteBehind';

export interface ReadSample {
  readonly member: string;
  readonly invokedMs: number;
  readonly latencyMs: number;
  readonly outcome: string;
  /** Whether the bound applies (see the module comment). */
  readonly counts: boolean;
}

/** The reads that broke the bound, described; empty when none did. */
export function slowReads(samples: readonly ReadSample[], boundMs: number = livenessProbeLimits.answerBoundMs): string[] {
  return samples
    .filter((sample) => sample.counts && sample.latencyMs > boundMs)
    .map((sample) => `read on ${sample.member} invoked at ${sample.invokedMs} ms took ${sample.latencyMs} ms (${sample.outcome})`);
}

/** A cut-off leader's tenure after the cut, judged; null when it stepped down in time. */
export function lateStepDown(leader: string, cutAtMs: number, ledUntilMs: number, boundMs: number = livenessProbeLimits.stepDownBoundMs): string | null {
  const tenure = ledUntilMs - cutAtMs;
  return tenure <= boundMs ? null : `leader ${leader}, cut off from its quorum's answers at ${cutAtMs} ms, still led ${tenure} ms later (bound ${boundMs} ms)`;
}

export class LivenessProbe {
  readonly samples: ReadSample[] = [];
  readonly stepDowns: string[] = [];
  readonly stalledWrites: string[] = [];
  readonly rounds: RoundKind[] = [];
  private readonly client: StoreClient;
  private readonly control: StoreClient;

  constructor(private readonly cluster: SimCluster, private readonly random: Prng) {
    const common = { cluster: cluster.cluster, members: cluster.memberIds, clock: cluster.clock };
    this.client = new StoreClient({ ...common, bus: cluster.network.connect('probe-reader'), random: random.fork(), callTimeoutMs: 2_000, attemptTimeoutMs: 1_000 });
    this.control = new StoreClient({ ...common, bus: cluster.network.connect('probe-control'), random: random.fork(), callTimeoutMs: 1_000, attemptTimeoutMs: 500 });
  }

  /**
   * Runs the rounds once no timer of an earlier fault can fire any more (from `quietFromMs`: a
   * late resume would end the probe's own pause, a late crash would look like a slow read), on a
   * cluster healed again; returns the failure, or null.
   */
  async run(stepMs: number, quietFromMs: number): Promise<string | null> {
    const cluster = this.cluster;
    if (cluster.clock.now() < quietFromMs) await cluster.run(quietFromMs - cluster.clock.now(), livenessProbeLimits.idleStepMs);
    cluster.network.heal();
    cluster.network.resumeAll();
    cluster.healAndStartAll();
    await cluster.run(livenessProbeLimits.settleMs, stepMs);
    for (let round = 0; round < livenessProbeLimits.rounds; round++) {
      if (!(await this.round(stepMs))) break;
    }
    const failures = [...this.stepDowns, ...this.stalledWrites, ...slowReads(this.samples)];
    if (failures.length === 0) return null;
    return `liveness probe (${this.rounds.join(', ')}): ${failures.slice(0, livenessProbeLimits.keptMax).join(' | ')}`;
  }

  private async round(stepMs: number): Promise<boolean> {
    const cluster = this.cluster;
    const conf = cluster.conf();
    const leader = cluster.leader();
    if (conf === null || leader === null || !conf.voters.includes(leader)) return false;
    const members = [...conf.voters, ...conf.learners].filter((id) => cluster.isUp(id));
    // Clients look for the leader among these: retired members would cost an attempt deadline each.
    this.client.setMembers(members);
    this.control.setMembers(members);
    const quorum = Math.floor(conf.voters.length / 2) + 1;
    const otherVoters = conf.voters.filter((id) => id !== leader);
    // cutOffReader: F with L short of a quorum.
    const readers = members.filter((id) => id !== leader && (conf.learners.includes(id) || quorum > 2));
    const roll = this.random.int(4);
    if (roll === 3) await this.promoteBehind(conf.learners.find((id) => cluster.isUp(id)) ?? null, stepMs);
    else if (roll === 1 && readers.length > 0) await this.cutOffReader(leader, this.random.pick(readers), members, stepMs);
    else if (roll === 2 && quorum > 1) await this.cutOffHearing(leader, this.random.shuffle(otherVoters).slice(0, quorum - 1), members, stepMs);
    else if (otherVoters.length > 0) await this.transfer(leader, this.random.pick(otherVoters), members, stepMs);
    else return false;
    cluster.network.heal();
    await cluster.run(livenessProbeLimits.settleMs, stepMs);
    return true;
  }

  private async transfer(leader: string, target: string, members: readonly string[], stepMs: number): Promise<void> {
    this.rounds.push('transfer');
    const transferAt = this.cluster.clock.now() + this.random.between(10, 60);
    let transferred = false;
    await this.readFor(members, () => true, stepMs, () => {
      if (transferred || this.cluster.clock.now() < transferAt) return;
      transferred = true;
      this.control.transferLeadership(target).catch(() => undefined);
    });
    void leader;
  }

  private async cutOffReader(leader: string, reader: string, members: readonly string[], stepMs: number): Promise<void> {
    this.rounds.push('cutOffReader');
    this.isolate([leader, reader], members);
    await this.readFor([reader], () => !(this.cluster.driver(leader)?.isLeader() ?? false), stepMs);
  }

  private async cutOffHearing(leader: string, hearing: readonly string[], members: readonly string[], stepMs: number): Promise<void> {
    this.rounds.push('cutOffHearing');
    this.isolate([leader, ...hearing], members);
    for (const id of hearing) this.cluster.network.blockOneWay(leader, id);
    const cutAtMs = this.cluster.clock.now();
    let ledUntilMs = cutAtMs;
    const end = cutAtMs + livenessProbeLimits.probeMs;
    while (this.cluster.clock.now() < end) {
      await this.cluster.run(stepMs, stepMs);
      if (this.cluster.driver(leader)?.isLeader() ?? false) ledUntilMs = this.cluster.clock.now();
    }
    const late = lateStepDown(leader, cutAtMs, ledUntilMs);
    if (late !== null) this.stepDowns.push(late);
  }

  private async promoteBehind(existing: string | null, stepMs: number): Promise<void> {
    const cluster = this.cluster;
    let learner = existing;
    if (learner === null) {
      const spare = cluster.unused()[0];
      if (spare === undefined) return;
      cluster.start(spare);
      this.control.changeMembership({ type: 'addLearner', member: spare }).catch(() => undefined);
      await cluster.run(livenessProbeLimits.learnerJoinMs, stepMs);
      if (!(cluster.conf()?.learners.includes(spare) ?? false)) return;
      learner = spare;
    }
    this.rounds.push('promoteBehind');
    cluster.network.pause(learner);
    // Asked of the others only: a request to the paused learner would wait out its deadline.
    this.control.setMembers((cluster.conf()?.voters ?? []).filter((id) => cluster.isUp(id)));
    await cluster.run(livenessProbeLimits.learnerPauseMs, stepMs);
    let answered = false;
    let outcome = 'no answer';
    this.control.changeMembership({ type: 'promote', member: learner }).then(
      () => { outcome = 'promoted'; },
      (error: unknown) => { outcome = error instanceof Error ? error.name : String(error); },
    ).finally(() => { answered = true; });
    const askedUntil = cluster.clock.now() + livenessProbeLimits.promoteAnswerMs;
    while (!answered && cluster.clock.now() < askedUntil) await cluster.run(stepMs, stepMs);
    const from = cluster.clock.now();
    const end = from + livenessProbeLimits.writeBoundMs;
    let committedAt: number | null = null;
    void (async () => {
      for (let attempt = 1; committedAt === null && cluster.clock.now() < end; attempt++) {
        try {
          await this.control.put({ key: 'probe', value: new TextEncoder().encode(learner) }, { requestId: `probe-${learner}-${from}-${attempt}`, timeoutMs: 100 });
          committedAt = cluster.clock.now();
        } catch {
          // Refused or unknown: asked again under a new id until the bound.
        }
      }
    })();
    while (committedAt === null && cluster.clock.now() < end) await cluster.run(stepMs, stepMs);
    if (committedAt === null) this.stalledWrites.push(`after asking to promote learner ${learner} while it was paused (${outcome}), no write committed within ${livenessProbeLimits.writeBoundMs} ms`);
    cluster.network.resume(learner);
  }

  /** `group` on one side, every other member on the other. */
  private isolate(group: readonly string[], members: readonly string[]): void {
    const rest = members.filter((id) => !group.includes(id));
    if (rest.length > 0) this.cluster.network.partition([group, rest]);
  }

  /** Reads sent to `targets` for `probeMs`; `counts` says, at the invoke, whether the bound applies. */
  private async readFor(targets: readonly string[], counts: () => boolean, stepMs: number, onStep?: () => void): Promise<void> {
    const end = this.cluster.clock.now() + livenessProbeLimits.probeMs;
    let nextReadAt = this.cluster.clock.now();
    while (this.cluster.clock.now() < end) {
      onStep?.();
      if (this.cluster.clock.now() >= nextReadAt) {
        nextReadAt = this.cluster.clock.now() + this.random.between(livenessProbeLimits.readEveryMs.min, livenessProbeLimits.readEveryMs.max);
        const applies = counts();
        for (const member of targets) void this.read(member, applies);
      }
      await this.cluster.run(stepMs, stepMs);
    }
  }

  private async read(member: string, counts: boolean): Promise<void> {
    const invokedMs = this.cluster.clock.now();
    let outcome = 'served';
    try {
      await this.client.range({ key: 'k0' }, { member });
    } catch (error) {
      outcome = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    this.samples.push({ member, invokedMs, latencyMs: this.cluster.clock.now() - invokedMs, outcome, counts });
  }
}

