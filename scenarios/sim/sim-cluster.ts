/**
 * A whole store cluster inside one process, on simulated time, network and disk: the real store
 * member actor (XState, driver, Raft core, MVCC, transport, service) on a `SimNetwork`, a
 * `SimulatedClock` and `MemoryBackend`s. One Prng, seeded once, decides every election timeout,
 * message delay, drop, fault and client choice, so a seed replays a run exactly.
 *
 * Decision: crashes happen between events. The driver persists each Ready in one synchronous
 * transaction before sending anything, so a crash inside a Ready is the same as a crash just
 * before it with that Ready's messages dropped; crashes between events plus message drops cover
 * it, and the "disk" keeps exactly what was committed.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { SimNetwork, SimulatedClock, Prng, type Bus } from '../../bus/index.js';
import { MemoryBackend, storeMemberMachine, type RaftDriver, type RaftTiming } from '../../store/index.js';

export interface SimClusterOptions {
  readonly seed: number;
  readonly members: number;
  readonly timing: RaftTiming;
  readonly snapshotEveryEntries: number;
  readonly cluster?: string;
}

interface SimMember {
  readonly id: string;
  backend: MemoryBackend;
  actor: ActorRefFrom<typeof storeMemberMachine> | null;
  bus: Bus | null;
}

export class SimCluster {
  readonly clock = new SimulatedClock();
  readonly random: Prng;
  readonly network: SimNetwork;
  readonly memberIds: string[];
  readonly cluster: string;
  private readonly members = new Map<string, SimMember>();
  private readonly startListeners: ((id: string, driver: RaftDriver) => void)[] = [];

  constructor(private readonly options: SimClusterOptions) {
    this.random = new Prng(options.seed);
    this.network = new SimNetwork({ clock: this.clock, random: this.random.fork() });
    this.cluster = options.cluster ?? 'sim';
    this.memberIds = Array.from({ length: options.members }, (_, i) => `s${i + 1}`);
    for (const id of this.memberIds) this.members.set(id, { id, backend: new MemoryBackend(), actor: null, bus: null });
  }

  /** Called each time a member's driver starts (first start and every restart). */
  onMemberStarted(listener: (id: string, driver: RaftDriver) => void): void {
    this.startListeners.push(listener);
  }

  async startAll(): Promise<void> {
    for (const id of this.memberIds) this.start(id);
    await this.settle();
  }

  start(id: string): void {
    const member = this.require(id);
    if (member.actor !== null) return;
    const bus = member.bus ?? this.network.connect(id);
    this.network.reconnect(id);
    member.bus = bus;
    const actor = createActor(storeMemberMachine, {
      clock: this.clock,
      input: {
        cluster: this.cluster,
        self: id,
        initialMembers: this.memberIds,
        bus,
        clock: this.clock,
        random: this.random.fork(),
        timing: this.options.timing,
        openBackend: () => member.backend,
        snapshotEveryEntries: this.options.snapshotEveryEntries,
      },
    });
    actor.subscribe({
      next: (snapshot) => {
        const driver = snapshot.context.driver;
        if (snapshot.matches('running') && driver !== null && !announced.has(driver)) {
          announced.add(driver);
          for (const listener of this.startListeners) listener(id, driver);
        }
      },
      error: () => undefined,
    });
    const announced = new WeakSet<RaftDriver>();
    member.actor = actor;
    actor.start();
  }

  /** A power cut: the process vanishes; its disk keeps what was committed. */
  crash(id: string): void {
    const member = this.require(id);
    if (member.actor === null) return;
    member.actor.stop();
    member.actor = null;
    this.network.disconnect(id);
    member.backend = member.backend.reopen();
  }

  isUp(id: string): boolean {
    return this.require(id).actor !== null;
  }

  driver(id: string): RaftDriver | null {
    return this.require(id).actor?.getSnapshot().context.driver ?? null;
  }

  backend(id: string): MemoryBackend {
    return this.require(id).backend;
  }

  state(id: string): string {
    const actor = this.require(id).actor;
    return actor === null ? 'down' : JSON.stringify(actor.getSnapshot().value);
  }

  /** Advances simulated time in small steps, letting promise chains run between them. */
  async run(durationMs: number, stepMs: number, onStep?: () => void): Promise<void> {
    const end = this.clock.now() + durationMs;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await this.settle();
      onStep?.();
    }
  }

  /** Runs every queued microtask and immediate: nothing real is pending in a simulation. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
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
