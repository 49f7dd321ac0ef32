/**
 * Real store members (the member actor: driver, Raft core, MVCC, transport, service) on simulated
 * time and network, with each member's disk supplied by the test (MemoryBackend or LMDB), and a
 * store client on the same network. Like scenarios/sim/sim-cluster.ts, but a test chooses the
 * disks, so it can fill one, close one and reopen it.
 *
 * Nothing here sleeps: `settle` runs a promise to completion by advancing simulated time in steps,
 * with a bound on simulated time.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { Prng, SimNetwork, SimulatedClock, type Bus } from '../../bus/index.js';
import { BackendRaftLog, StoreClient, storeMemberMachine, type Backend, type RaftDriver, type RaftTiming } from '../../store/index.js';

export const harnessTiming: RaftTiming = { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 };

export interface HarnessOptions {
  readonly ids: readonly string[];
  readonly seed?: number;
  /** Opens member `id`'s disk (the Raft log goes in its tables, the previous format); called at every start. */
  readonly openBackend: (id: string) => Backend;
  /** Wraps a member's bus (to drop or watch its messages). */
  readonly wrapBus?: (id: string, bus: Bus) => Bus;
}

export class MemberHarness {
  readonly clock = new SimulatedClock();
  readonly random: Prng;
  readonly network: SimNetwork;
  readonly client: StoreClient;
  private readonly actors = new Map<string, ActorRefFrom<typeof storeMemberMachine>>();
  private readonly buses = new Map<string, Bus>();

  constructor(private readonly options: HarnessOptions) {
    this.random = new Prng(options.seed ?? 1);
    this.network = new SimNetwork({ clock: this.clock, random: this.random.fork() });
    this.client = new StoreClient({ bus: this.network.connect('client'), cluster: 'test', members: options.ids, clock: this.clock, random: this.random.fork() });
  }

  start(id: string): void {
    if (this.actors.has(id)) return;
    this.network.reconnect(id);
    let bus = this.buses.get(id);
    if (bus === undefined) {
      const raw = this.network.connect(id);
      bus = this.options.wrapBus?.(id, raw) ?? raw;
      this.buses.set(id, bus);
    }
    const actor = createActor(storeMemberMachine, {
      clock: this.clock,
      input: {
        cluster: 'test', self: id, initialMembers: this.options.ids, bus, clock: this.clock, random: this.random.fork(),
        timing: harnessTiming, openStorage: () => {
          const backend = this.options.openBackend(id);
          return { backend, log: new BackendRaftLog(backend) };
        },
        snapshotEveryEntries: 1_000,
      },
    });
    actor.subscribe({ error: () => undefined });
    this.actors.set(id, actor);
    actor.start();
  }

  /** The process vanishes between two events; its disk keeps what was committed (the test reopens it). */
  crash(id: string): void {
    const actor = this.actors.get(id);
    if (actor === undefined) return;
    actor.stop();
    this.actors.delete(id);
    this.network.disconnect(id);
  }

  stopAll(): void {
    for (const id of [...this.actors.keys()]) this.crash(id);
  }

  driver(id: string): RaftDriver | null {
    return this.actors.get(id)?.getSnapshot().context.driver ?? null;
  }

  state(id: string): string {
    const actor = this.actors.get(id);
    return actor === undefined ? 'down' : JSON.stringify(actor.getSnapshot().value);
  }

  leader(): string | null {
    for (const id of this.actors.keys()) if (this.driver(id)?.isLeader() === true) return id;
    return null;
  }

  /** Advances simulated time by `ms`, in tick-sized steps, running promise chains in between. */
  async run(ms: number, stepMs = 1): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await flush();
    }
  }

  /** Advances time until `probe` holds; fails after `withinMs` of simulated time. */
  async until(what: string, probe: () => boolean, withinMs = 10_000): Promise<void> {
    const end = this.clock.now() + withinMs;
    while (!probe()) {
      if (this.clock.now() >= end) throw new Error(`not within ${withinMs} simulated ms: ${what}`);
      this.clock.advance(1);
      await flush();
    }
  }

  async waitForLeader(withinMs = 10_000): Promise<string> {
    await this.until('a leader', () => this.leader() !== null, withinMs);
    return this.leader() as string;
  }

  /** Runs simulated time until `promise` settles; its value, or its error thrown. */
  async settle<T>(promise: Promise<T>, withinMs = 30_000): Promise<T> {
    let done = false;
    const watched = promise.finally(() => {
      done = true;
    });
    watched.catch(() => undefined);
    await this.until('the call to settle', () => done, withinMs);
    return watched;
  }

  /** The error `promise` rejects with (fails the test if it resolves). */
  async refusal(promise: Promise<unknown>, withinMs = 30_000): Promise<Error> {
    try {
      const value = await this.settle(promise, withinMs);
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    } catch (error) {
      return error as Error;
    }
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
