/**
 * Real RaftDrivers (core, log store, MVCC on MemoryBackends) wired by hand for tests that need the
 * driver's answers to its clients: messages wait in one queue until the test delivers or drops
 * them, deferred Ready processing runs when the test says, and time moves only by ticks (the
 * simulated clock is never advanced, so no client deadline can expire during a test).
 */
import { Prng } from '../../bus/prng.js';
import { SimulatedClock } from '../../bus/clock.js';
import { BackendRaftLog, defaultRaftTiming, MemoryBackend, RaftDriver, type Message } from '../../store/index.js';

export interface DriverClusterOptions {
  readonly snapshotEveryEntries?: number;
  readonly snapshotEveryBytes?: number;
}

const roundsMax = 1_000;

export class DriverCluster {
  readonly clock = new SimulatedClock();
  readonly drivers = new Map<string, RaftDriver>();
  private queue: Message[] = [];
  private deferred: (() => void)[] = [];

  constructor(ids: readonly string[], options: DriverClusterOptions = {}) {
    ids.forEach((id, i) => {
      const backend = new MemoryBackend();
      const driver = new RaftDriver({
        self: id,
        initialMembers: ids,
        backend,
        log: new BackendRaftLog(backend),
        clock: this.clock,
        random: new Prng(i + 1),
        timing: defaultRaftTiming,
        send: (messages) => this.queue.push(...messages),
        snapshotEveryEntries: options.snapshotEveryEntries ?? 10_000,
        ...(options.snapshotEveryBytes === undefined ? {} : { snapshotEveryBytes: options.snapshotEveryBytes }),
        defer: (fn) => this.deferred.push(fn),
      });
      this.drivers.set(id, driver);
    });
  }

  driver(id: string): RaftDriver {
    const driver = this.drivers.get(id);
    if (driver === undefined) throw new Error(`no member ${id}`);
    return driver;
  }

  /** Runs every deferred Ready round (they may defer more). */
  process(): void {
    for (let round = 0; this.deferred.length > 0; round++) {
      if (round >= roundsMax) throw new Error('deferred work did not settle');
      const fn = this.deferred.shift();
      fn?.();
    }
  }

  tick(id: string, count = 1): void {
    for (let i = 0; i < count; i++) this.driver(id).tick();
    this.process();
  }

  /** Delivers the queued messages that `which` selects (all by default); they may answer. */
  deliver(which: (m: Message) => boolean = () => true): void {
    const now = this.queue.filter(which);
    this.queue = this.queue.filter((m) => !which(m));
    for (const m of now) {
      this.drivers.get(m.to)?.receive([m]);
      if (m.type === 'snapshot') this.drivers.get(m.from)?.reportSnapshot(m.to, true);
    }
    this.process();
  }

  drop(which: (m: Message) => boolean): void {
    this.queue = this.queue.filter((m) => !which(m));
  }

  queued(): readonly Message[] {
    return this.queue;
  }

  /** Delivers until no message is left. */
  stabilize(): void {
    this.process();
    for (let round = 0; this.queue.length > 0; round++) {
      if (round >= roundsMax) throw new Error('the cluster did not settle');
      this.deliver();
    }
  }

  /** Ticks `id` alone until it leads (nobody else times out), then lets the cluster settle. */
  elect(id: string): void {
    const driver = this.driver(id);
    for (let i = 0; i < 4 * defaultRaftTiming.electionTicks && !driver.isLeader(); i++) {
      this.tick(id);
      this.stabilize();
    }
    if (!driver.isLeader()) throw new Error(`${id} did not become leader`);
    this.stabilize();
  }
}

/** Lets promise callbacks run, so a settled promise's state is visible to the test. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
