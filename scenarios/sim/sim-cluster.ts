/**
 * A whole store cluster inside one process, on simulated time, network and disk: the real store
 * member actor (XState, driver, Raft core, MVCC, transport, service) on a `SimNetwork`, a
 * `SimulatedClock` and `SimDisk`s. One Prng, seeded once, decides every election timeout,
 * message delay, drop, fault and client choice, so a seed replays a run exactly.
 *
 * Members: `initialVoters` start the cluster; `spares` are ids that may join later (started empty,
 * then added by a membership change). A member removed from the configuration is retired: its
 * process stops for good, as an operator would stop it.
 *
 * Crashes: between events (`crash`), and at a sync of its log (`SimDisk` power cut): a member that
 * sent messages before its disk write and then lost power restarts from what its disk kept: what
 * was synced before, and maybe part of the write the cut interrupted. Every crash is a power cut:
 * the state machine loses its unsynced transactions, the log its unsynced bytes. Any other exception out of a member (the process would die) or a
 * member actor that fails or errors is recorded in `problems` and fails the seed.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { SimNetwork, SimulatedClock, Prng, type Bus } from '../../bus/index.js';
import { storeMemberMachine, type ConfState, type RaftDriver, type RaftTiming } from '../../store/index.js';
import { PowerCut, SimDisk } from './sim-disk.js';

export interface SimClusterOptions {
  readonly seed: number;
  /** Voters of the new cluster. */
  readonly members: number;
  /** Ids that may join later, started empty (s<members+1>…). */
  readonly spares?: number;
  readonly timing: RaftTiming;
  readonly snapshotEveryEntries: number;
  /** Applied data bytes between snapshots; the production bound when absent. */
  readonly snapshotEveryBytes?: number;
  /** The request dedup window and bytes; production's when absent. */
  readonly dedupLimits?: { readonly retryWindowMs: number; readonly bytesMax: number };
  readonly cluster?: string;
}

interface SimMember {
  readonly id: string;
  readonly initialMembers: readonly string[];
  disk: SimDisk;
  actor: ActorRefFrom<typeof storeMemberMachine> | null;
  bus: Bus | null;
  retired: boolean;
  started: boolean;
}

export class SimCluster {
  readonly clock = new SimulatedClock();
  readonly random: Prng;
  readonly network: SimNetwork;
  /** Every id that may ever run: the initial voters, then the spares. */
  readonly memberIds: string[];
  readonly initialVoters: string[];
  readonly cluster: string;
  /** What went wrong inside members (failed actors, processes that would have died): each fails the seed. */
  readonly problems: string[] = [];
  powerCuts = 0;
  private readonly members = new Map<string, SimMember>();
  private readonly startListeners: ((id: string, driver: RaftDriver) => void)[] = [];
  private readonly crashListeners: ((id: string) => void)[] = [];

  constructor(private readonly options: SimClusterOptions) {
    this.random = new Prng(options.seed);
    this.network = new SimNetwork({ clock: this.clock, random: this.random.fork() });
    this.cluster = options.cluster ?? 'sim';
    const total = options.members + (options.spares ?? 0);
    this.memberIds = Array.from({ length: total }, (_, i) => `s${i + 1}`);
    this.initialVoters = this.memberIds.slice(0, options.members);
    for (const id of this.memberIds) {
      const initialMembers = this.initialVoters.includes(id) ? this.initialVoters : [];
      this.members.set(id, { id, initialMembers, disk: new SimDisk(id, this.random.fork()), actor: null, bus: null, retired: false, started: false });
    }
  }

  /** Called each time a member's driver starts (first start and every restart). */
  onMemberStarted(listener: (id: string, driver: RaftDriver) => void): void {
    this.startListeners.push(listener);
  }

  /** Called after each crash, with the disk as the member will find it on restart. */
  onMemberCrashed(listener: (id: string) => void): void {
    this.crashListeners.push(listener);
  }

  async startAll(): Promise<void> {
    for (const id of this.initialVoters) this.start(id);
    await this.settle();
  }

  start(id: string): void {
    const member = this.require(id);
    if (member.actor !== null || member.retired) return;
    const bus = member.bus ?? this.network.connect(id);
    this.network.reconnect(id);
    member.bus = bus;
    member.started = true;
    const announced = new WeakSet<RaftDriver>();
    let failedSeen = false;
    const actor = createActor(storeMemberMachine, {
      clock: this.clock,
      input: {
        cluster: this.cluster,
        self: id,
        initialMembers: member.initialMembers,
        bus,
        clock: this.clock,
        random: this.random.fork(),
        timing: this.options.timing,
        openStorage: () => ({ backend: member.disk, log: member.disk.openLog() }),
        snapshotEveryEntries: this.options.snapshotEveryEntries,
        ...(this.options.snapshotEveryBytes !== undefined ? { snapshotEveryBytes: this.options.snapshotEveryBytes } : {}),
        ...(this.options.dedupLimits !== undefined ? { dedupLimits: this.options.dedupLimits } : {}),
      },
    });
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.matches('failed') && !failedSeen) {
          failedSeen = true;
          // A power cut while opening is a crash like any other: start again from the disk.
          if (snapshot.context.error instanceof PowerCut) this.clock.setTimeout(() => this.restartAfterPowerCut(id), 0);
          else this.problems.push(`${id}: member failed: ${describe(snapshot.context.error)}`);
        }
        const driver = snapshot.context.driver;
        if (snapshot.matches('running') && driver !== null && !announced.has(driver)) {
          announced.add(driver);
          for (const listener of this.startListeners) listener(id, driver);
        }
      },
      error: (error: unknown) => this.problems.push(`${id}: member actor error: ${describe(error)}`),
    });
    member.actor = actor;
    actor.start();
  }

  /**
   * The process vanishes: a power cut (its disk keeps what was durable, maybe a little more) or a
   * kill (everything written), `how` says which, or the disk draws one.
   */
  crash(id: string, how?: 'powerCut' | 'kill'): void {
    const member = this.require(id);
    if (member.actor === null) return;
    member.actor.stop();
    member.actor = null;
    this.network.disconnect(id);
    member.disk = member.disk.reopen(how);
    for (const listener of this.crashListeners) listener(id);
  }

  /** Heals every disk and starts every active member that is down. */
  healAndStartAll(): void {
    for (const id of this.active()) {
      this.disk(id).heal();
      this.start(id);
    }
  }

  restart(id: string): void {
    this.crash(id);
    this.start(id);
  }

  private restartAfterPowerCut(id: string): void {
    this.crash(id, 'powerCut');
    this.start(id);
  }

  /**
   * The applied index `id` would reach by itself after the worst power cut now (which discards
   * its state machine): its log's snapshot, or its log's durable commit index (a restart applies
   * up to it unaided).
   */
  durableApplied(id: string): number {
    const { hardState, snapshot } = this.disk(id).storedLog('durable');
    return Math.max(snapshot?.meta.index ?? 0, hardState.commit);
  }

  /** Data bytes of the entries `id`'s log holds after its snapshot, up to what it applied: its live log. */
  liveLogBytes(id: string): number {
    const { hardState, entries } = this.disk(id).storedLog('written');
    const applied = this.driver(id)?.raftStatus().applied ?? hardState.commit;
    return entries.filter((entry) => entry.index <= applied).reduce((sum, entry) => sum + entry.data.length, 0);
  }

  /** Removed from the configuration: stopped for good. */
  retire(id: string): void {
    this.crash(id);
    this.require(id).retired = true;
  }

  isUp(id: string): boolean {
    return this.require(id).actor !== null;
  }

  isRetired(id: string): boolean {
    return this.require(id).retired;
  }

  /** Started at least once and not retired: the members faults may hit. */
  active(): string[] {
    return this.memberIds.filter((id) => this.require(id).started && !this.require(id).retired);
  }

  /** Never started and never retired: ids a membership change may add. */
  unused(): string[] {
    return this.memberIds.filter((id) => !this.require(id).started && !this.require(id).retired);
  }

  driver(id: string): RaftDriver | null {
    return this.require(id).actor?.getSnapshot().context.driver ?? null;
  }

  disk(id: string): SimDisk {
    return this.require(id).disk;
  }

  state(id: string): string {
    const actor = this.require(id).actor;
    return actor === null ? 'down' : JSON.stringify(actor.getSnapshot().value);
  }

  /** The member that leads the highest term right now, if any. */
  leader(): string | null {
    let best: { id: string; term: number } | null = null;
    for (const id of this.memberIds) {
      const driver = this.driver(id);
      if (driver === null || !driver.isLeader()) continue;
      const term = driver.raftStatus().term;
      if (best === null || term > best.term) best = { id, term };
    }
    return best?.id ?? null;
  }

  /** The configuration as the most advanced running member applied it. */
  conf(): ConfState | null {
    let best: { applied: number; conf: ConfState } | null = null;
    for (const id of this.memberIds) {
      const status = this.driver(id)?.raftStatus();
      if (status !== undefined && (best === null || status.applied > best.applied)) best = { applied: status.applied, conf: status.conf };
    }
    return best?.conf ?? null;
  }

  /**
   * Advances simulated time in small steps, letting promise chains run between them. A power cut
   * thrown out of a member's disk write crashes that member; any other exception out of a member
   * is a process that would have died: recorded, and the run goes on without that member.
   */
  async run(durationMs: number, stepMs: number, onStep?: () => void): Promise<void> {
    const end = this.clock.now() + durationMs;
    while (this.clock.now() < end) {
      const target = Math.min(this.clock.now() + stepMs, end);
      this.advanceTo(target);
      await this.settle();
      onStep?.();
    }
  }

  private advanceTo(target: number): void {
    for (;;) {
      try {
        this.clock.advance(target - this.clock.now());
        return;
      } catch (error) {
        if (error instanceof PowerCut) {
          this.powerCuts++;
          this.crash(error.member, 'powerCut');
          continue;
        }
        this.problems.push(`a member's process died at ${this.clock.now()} ms: ${describe(error)}`);
        throw error;
      }
    }
  }

  /**
   * Runs every queued promise continuation: nothing real is pending in a simulation. Microtasks
   * drain completely (also those queued while draining) before the immediate fires.
   */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  stopAll(): void {
    for (const member of this.members.values()) {
      member.actor?.stop();
      member.actor = null;
    }
  }

  private require(id: string): SimMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`SimCluster: no member ${id}`);
    return member;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
