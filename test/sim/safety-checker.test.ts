/**
 * The simulation's safety checker must reject what it claims to reject: it is fed hand-made
 * events from fake drivers (no Raft runs here), each breaking one property, and the matching
 * consistent events, which it must accept.
 */
import { describe, expect, it } from 'vitest';
import { matchLogs, SafetyChecker, SafetyViolation } from '../../scenarios/sim/safety-checker.js';
import { SimDisk } from '../../scenarios/sim/sim-disk.js';
import type { SimCluster } from '../../scenarios/sim/sim-cluster.js';
import { Prng } from '../../bus/prng.js';
import type { DriverListener, Entry, RaftDriver } from '../../store/index.js';

const log = (...entries: [number, string][]): Map<number, string> => new Map(entries);

describe('log matching check', () => {
  it('accepts logs that agree up to their last common term and diverge after', () => {
    const a = log([1, '1:a'], [2, '1:b'], [3, '2:c']);
    const b = log([1, '1:a'], [2, '1:b'], [3, '3:x'], [4, '3:y']);
    expect(() => matchLogs('s1', a, 's2', b)).not.toThrow();
  });

  it('rejects logs with the same entry term at an index but a different entry before it', () => {
    const a = log([1, '1:a'], [2, '1:b'], [3, '2:c']);
    const b = log([1, '1:a'], [2, '1:DIFFERENT'], [3, '2:c']);
    expect(() => matchLogs('s1', a, 's2', b)).toThrow(SafetyViolation);
  });

  it('rejects two different entries with the same index and term', () => {
    expect(() => matchLogs('s1', log([5, '4:a']), 's2', log([5, '4:b']))).toThrow(/differ at 5/);
  });
});

/** Just enough of a driver for the checker: it subscribes, and reports a status. */
class FakeDriver {
  listener: DriverListener = {};
  lastIndex = 0;
  subscribe(listener: DriverListener): () => void {
    this.listener = listener;
    return () => undefined;
  }
  raftStatus(): { snapshotIndex: number; lastIndex: number } {
    return { snapshotIndex: 0, lastIndex: this.lastIndex };
  }
}

/** Just enough of a SimCluster: members with disks, and the start/crash announcements. */
class FakeCluster {
  readonly memberIds = ['s1', 's2'];
  readonly disks = new Map(this.memberIds.map((id, i) => [id, new SimDisk(id, new Prng(i + 1))]));
  readonly drivers = new Map(this.memberIds.map((id) => [id, new FakeDriver()]));
  private readonly started: ((id: string, driver: RaftDriver) => void)[] = [];
  private readonly crashed: ((id: string) => void)[] = [];
  onMemberStarted(listener: (id: string, driver: RaftDriver) => void): void {
    this.started.push(listener);
  }
  onMemberCrashed(listener: (id: string) => void): void {
    this.crashed.push(listener);
  }
  disk(id: string): SimDisk {
    return this.disks.get(id) as SimDisk;
  }
  startAll(): void {
    for (const [id, driver] of this.drivers) for (const listener of this.started) listener(id, driver as unknown as RaftDriver);
  }
  crash(id: string): void {
    for (const listener of this.crashed) listener(id);
  }
  on(id: string): DriverListener {
    return (this.drivers.get(id) as FakeDriver).listener;
  }
}

function setup(): { cluster: FakeCluster; checker: SafetyChecker } {
  const cluster = new FakeCluster();
  const checker = new SafetyChecker(cluster as unknown as SimCluster);
  cluster.startAll();
  return { cluster, checker };
}

const entry = (index: number, term: number, data: string): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(data) });

/** Stores entries in a member's WAL and announces them, as its driver would have. */
function persist(cluster: FakeCluster, id: string, entries: Entry[]): void {
  const log = cluster.disk(id).openLog();
  log.load();
  log.save({ hardState: { term: 3, vote: null, commit: 0 }, entries, snapshot: null }, { sync: true });
  cluster.on(id).logPersisted?.(entries, null);
}

describe('SafetyChecker', () => {
  it('accepts members that apply the same entries and one leader per term', () => {
    const { cluster } = setup();
    for (const id of cluster.memberIds) {
      persist(cluster, id, [entry(1, 1, 'w'), entry(2, 1, 'x')]);
      (cluster.drivers.get(id) as FakeDriver).lastIndex = 2;
      cluster.on(id).entryApplied?.(entry(2, 1, 'x'));
    }
    cluster.on('s1').roleChanged?.('leader', 's1', 2);
    expect(() => cluster.on('s2').roleChanged?.('leader', 's2', 3)).not.toThrow();
  });

  it('rejects two members applying different entries at one index (state machine safety)', () => {
    const { cluster } = setup();
    cluster.on('s1').entryApplied?.(entry(2, 1, 'x'));
    expect(() => cluster.on('s2').entryApplied?.(entry(2, 1, 'y'))).toThrow(/state machine safety: s2 applied 1\/2 but s1 applied 1\/2/);
  });

  it('rejects two leaders of one term (election safety)', () => {
    const { cluster } = setup();
    cluster.on('s1').roleChanged?.('leader', 's1', 4);
    expect(() => cluster.on('s2').roleChanged?.('leader', 's2', 4)).toThrow(/election safety: s1 and s2 both leaders of term 4/);
  });

  it('rejects a leader whose log misses an applied entry (leader completeness)', () => {
    const { cluster } = setup();
    cluster.on('s1').entryApplied?.(entry(5, 2, 'x'));
    (cluster.drivers.get('s2') as FakeDriver).lastIndex = 4;
    expect(() => cluster.on('s2').roleChanged?.('leader', 's2', 3)).toThrow(/leader completeness: s2 leads term 3 with last index 4 but index 5 was applied/);
  });

  it('rejects persisted logs with different entries of one term at one index (log matching)', () => {
    const { cluster } = setup();
    cluster.on('s1').logPersisted?.([entry(2, 1, 'x')], null);
    expect(() => cluster.on('s2').logPersisted?.([entry(2, 1, 'y')], null)).toThrow(/log matching: s2 and s1 hold different entries of term 1 at index 2/);
  });

  it('accepts a disk that holds exactly what the member persisted, across a crash', () => {
    const { cluster } = setup();
    const entries = [entry(1, 1, 'a'), entry(2, 1, 'b')];
    persist(cluster, 's1', entries);
    cluster.on('s1').logPersisted?.(entries, null);
    expect(() => cluster.crash('s1')).not.toThrow();
  });

  it('rejects a disk that brings back a log tail a received snapshot dropped (durable log)', () => {
    const { cluster } = setup();
    const entries = [entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')];
    persist(cluster, 's1', entries);
    cluster.on('s1').logPersisted?.(entries, null);
    // The member took a snapshot at 0 from the leader: its log is gone, but nothing removed it from disk.
    expect(() => cluster.on('s1').logPersisted?.([], { index: 0, received: true })).toThrow(/durable log: s1's disk holds 1\/1 beyond its snapshot at 0/);
  });

  it('rejects a disk that lost entries the member had persisted (durable log)', () => {
    const { cluster } = setup();
    persist(cluster, 's1', [entry(1, 1, 'a')]);
    cluster.on('s1').logPersisted?.([entry(1, 1, 'a'), entry(2, 1, 'b')], null);
    expect(() => cluster.crash('s1')).toThrow(/durable log: s1's disk lost 1\/2/);
  });
});
