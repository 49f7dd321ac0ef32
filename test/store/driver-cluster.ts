/**
 * A few RaftDrivers (the real Ready loop, MVCC and log store) on MemoryBackends, with the network
 * and the deferred work in the test's hands: nothing moves until the test ticks a member, flushes
 * deferred work or delivers messages, so a test can hold, drop or reorder any message and crash a
 * member between any two steps. A crash keeps exactly what the member's backend made durable.
 */
import { Prng } from '../../bus/prng.js';
import { SimulatedClock } from '../../bus/clock.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { RaftDriver } from '../../store/raft-driver.js';
import { BackendRaftLog } from '../../store/backend-raft-log.js';
import type { RaftTiming } from '../../store/driver-limits.js';
import type { MemberId, Message } from '../../store/raft/types.js';

export const testTiming: RaftTiming = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 };
/** Deferred rounds and delivery rounds before a test's cluster must have settled. */
const roundsMax = 1000;

interface Member {
  backend: MemoryBackend;
  driver: RaftDriver | null;
  starts: number;
}

export class DriverCluster {
  readonly clock = new SimulatedClock();
  private readonly members = new Map<MemberId, Member>();
  private deferred: (() => void)[] = [];
  /** Messages sent and not yet delivered or dropped, in send order. */
  inFlight: Message[] = [];
  /** Sees every batch a driver sends, at the moment it sends it (before the driver goes on). */
  onSend: ((from: MemberId, messages: readonly Message[]) => void) | null = null;

  constructor(ids: readonly MemberId[], private readonly seed: number) {
    for (const id of ids) this.members.set(id, { backend: new MemoryBackend(), driver: null, starts: 0 });
  }

  /** Starts (or restarts) a member on its backend; `initialMembers` bootstraps a fresh one. */
  start(id: MemberId, initialMembers: readonly MemberId[]): RaftDriver {
    const member = this.member(id);
    if (member.driver !== null) throw new Error(`${id} is running`);
    member.starts++;
    member.driver = new RaftDriver({
      self: id,
      initialMembers,
      backend: member.backend,
      log: new BackendRaftLog(member.backend),
      clock: this.clock,
      random: new Prng(this.seed * 1000 + [...this.members.keys()].indexOf(id) * 10 + member.starts),
      timing: testTiming,
      send: (messages) => {
        this.onSend?.(id, messages);
        this.inFlight.push(...messages);
      },
      snapshotEveryEntries: 10_000,
      defer: (fn) => this.deferred.push(fn),
    });
    return member.driver;
  }

  /** A power cut: the driver is gone; its disk keeps what was made durable. */
  crash(id: MemberId): void {
    const member = this.member(id);
    member.driver?.stop();
    member.driver = null;
    member.backend = member.backend.reopen();
  }

  driver(id: MemberId): RaftDriver {
    const driver = this.member(id).driver;
    if (driver === null) throw new Error(`${id} is down`);
    return driver;
  }

  /** What a crash now would leave of the member's data. */
  durableBackend(id: MemberId): MemoryBackend {
    return this.member(id).backend.reopen();
  }

  /** Runs deferred work (the drivers' Ready loops) until none is left. */
  flush(): void {
    for (let round = 0; this.deferred.length > 0; round++) {
      if (round >= roundsMax) throw new Error('deferred work did not settle');
      const now = this.deferred;
      this.deferred = [];
      for (const fn of now) fn();
    }
  }

  tick(id: MemberId, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.clock.advance(testTiming.tickMs);
      this.driver(id).tick();
      this.flush();
    }
  }

  /** Delivers the in-flight messages that `which` selects (all by default); the rest stay queued. */
  deliver(which: (m: Message) => boolean = () => true): number {
    const now = this.inFlight.filter(which);
    this.inFlight = this.inFlight.filter((m) => !which(m));
    for (const m of now) {
      const receiver = this.member(m.to).driver;
      if (receiver === null) continue;
      receiver.receive([m]);
      if (m.type === 'snapshot') this.members.get(m.from)?.driver?.reportSnapshot(m.to, true);
    }
    this.flush();
    return now.length;
  }

  /** Drops the in-flight messages that `which` selects. */
  drop(which: (m: Message) => boolean): void {
    this.inFlight = this.inFlight.filter((m) => !which(m));
  }

  /** Delivers what `which` selects (dropping the rest) until nothing is in flight. */
  stabilize(which: (m: Message) => boolean = () => true): void {
    for (let round = 0; round < roundsMax; round++) {
      this.flush();
      this.drop((m) => !which(m));
      if (this.inFlight.length === 0) return;
      this.deliver(which);
    }
    throw new Error('the cluster did not settle');
  }

  /** Ticks `id` until it leads (members answer in between), then lets the cluster settle. */
  elect(id: MemberId): void {
    for (let i = 0; i < 4 * testTiming.electionTicks && !this.driver(id).isLeader(); i++) {
      this.tick(id);
      this.stabilize();
    }
    if (!this.driver(id).isLeader()) throw new Error(`${id} did not become leader`);
    this.stabilize();
  }

  /** Lets promise callbacks of settled driver calls run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  private member(id: MemberId): Member {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }
}
