/**
 * Seeded random runs of 3- and 5-member clusters of Raft cores on a lossy, partitioning, reordering
 * in-memory network, with crashes and restarts. After every step the safety properties are checked:
 *   - election safety: at most one leader per term, ever;
 *   - log matching: two logs holding an entry with the same index and term agree up to it;
 *   - committed entries are never lost or changed (every member's committed prefix, and the log of
 *     every later leader, agree with what any member ever reported committed);
 *   - state machine safety: members apply the same entries in the same order.
 * Then a liveness phase heals the network and requires the cluster to elect a leader and commit.
 * A failing seed is printed with the command that replays it.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import type { Entry, Message } from '../../store/raft/index.js';
import { bytes, defaultNodeOptions, SimNode, text } from './cluster.js';

const seeds = Number(process.env['RAFT_RANDOM_SEEDS'] ?? 30);
const stepsPerSeed = 400;

class RandomCluster {
  readonly nodes: SimNode[];
  private network: Message[] = [];
  private groups: string[][] | null = null;
  private readonly leaderOfTerm = new Map<number, string>();
  /** Every entry any member reported committed, by index. */
  private readonly committed = new Map<number, { term: number; data: string }>();
  /**
   * The term of the member that first reported each index committed: it was committed in that
   * term or earlier, so every leader of a later term must hold it (Leader Completeness). A stale
   * leader of an older term, cut off and unaware of the new leader, need not.
   */
  private readonly committedBy = new Map<number, number>();
  private proposals = 0;

  constructor(readonly random: Prng, size: number, readonly seed: number) {
    const ids = Array.from({ length: size }, (_, i) => `s${i + 1}`);
    const options = { ...defaultNodeOptions, preVote: random.chance(0.5), checkQuorum: random.chance(0.5), inflightAppendsMax: 4, appendBytesMax: 8 };
    this.nodes = ids.map((id, i) => new SimNode(id, { voters: ids, learners: [] }, options, seed * 31 + i));
  }

  step(faults: boolean): void {
    const roll = this.random.float();
    const node = this.random.pick(this.nodes);
    if (roll < 0.3) node.node.tick();
    else if (roll < 0.65) this.deliverOne(faults);
    else if (roll < 0.8) this.propose();
    else if (faults && roll < 0.83) this.partition();
    else if (faults && roll < 0.85) this.groups = null;
    else if (faults && roll < 0.86) node.restart();
    else if (roll < 0.9) this.maybeCompact(node);
    this.processAll();
    this.check();
  }

  private deliverOne(faults: boolean): void {
    if (this.network.length === 0) return;
    const index = faults ? this.random.int(this.network.length) : 0;
    const [m] = this.network.splice(index, 1);
    if (m === undefined) return;
    const from = this.nodes.find((n) => n.id === m.from);
    const to = this.nodes.find((n) => n.id === m.to);
    const dropped = (faults && this.random.chance(0.1)) || !this.canTalk(m.from, m.to);
    if (dropped || to === undefined) {
      if (m.type === 'snapshot') from?.node.reportSnapshot(m.to, false);
      return;
    }
    to.node.step(m);
    if (m.type === 'snapshot') from?.node.reportSnapshot(m.to, true);
    // Duplicate delivery is a network fault the core must tolerate too.
    if (faults && this.random.chance(0.03)) to.node.step(m);
  }

  private propose(): void {
    const leader = this.nodes.find((n) => n.node.status().role === 'leader');
    if (leader === undefined) return;
    try {
      leader.node.propose(bytes(`p${++this.proposals}`));
    } catch {
      // Refused (transfer in progress, uncommitted log full): fine under faults.
    }
  }

  private maybeCompact(node: SimNode): void {
    const applied = node.appliedIndex;
    const snapshotIndex = node.storage.snapshot?.meta.index ?? 0;
    if (applied - snapshotIndex >= 5) node.compact(applied);
  }

  private partition(): void {
    const shuffled = [...this.nodes.map((n) => n.id)].sort(() => this.random.float() - 0.5);
    const cut = 1 + this.random.int(shuffled.length - 1);
    this.groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
  }

  private canTalk(a: string, b: string): boolean {
    return this.groups === null || this.groups.some((g) => g.includes(a) && g.includes(b));
  }

  processAll(): void {
    for (const node of this.nodes) {
      for (let round = 0; round < 50 && node.node.hasReady(); round++) {
        const ready = node.handleReady();
        // Bounded network: the oldest messages are lost first when it overflows.
        this.network.push(...ready.messages);
        if (this.network.length > 2000) this.network.splice(0, this.network.length - 2000);
      }
    }
  }

  check(): void {
    for (const node of this.nodes) {
      const status = node.node.status();
      if (status.role === 'leader') {
        const known = this.leaderOfTerm.get(status.term);
        expect(known === undefined || known === node.id, `two leaders in term ${status.term}: ${known} and ${node.id}`).toBe(true);
        this.leaderOfTerm.set(status.term, node.id);
      }
      const entries = this.entriesOf(node);
      for (const [index, entry] of entries) {
        if (index > status.commit) break;
        const seen = this.committed.get(index);
        const mine = { term: entry.term, data: text(entry.data) };
        if (seen === undefined) {
          this.committed.set(index, mine);
          this.committedBy.set(index, status.term);
        } else expect(mine, `${node.id} committed index ${index} differently`).toEqual(seen);
      }
      if (status.role === 'leader') {
        // Leader completeness: a leader holds every entry committed before its term (that it did not compact).
        for (const [index, seen] of this.committed) {
          const entry = entries.get(index);
          if (index > (node.storage.snapshot?.meta.index ?? 0) && status.term > (this.committedBy.get(index) ?? 0)) expect(entry && { term: entry.term, data: text(entry.data) }, `leader ${node.id} lacks committed ${index}`).toEqual(seen);
        }
      }
    }
    this.checkLogMatching();
    const applied = this.nodes.map((n) => n.appliedData);
    for (const a of applied) for (const b of applied) {
      const common = Math.min(a.length, b.length);
      expect(a.slice(0, common)).toEqual(b.slice(0, common));
    }
  }

  private checkLogMatching(): void {
    const logs = this.nodes.map((n) => this.entriesOf(n));
    for (const a of logs) for (const b of logs) {
      let highestSame = 0;
      for (const [index, entry] of a) if (b.get(index)?.term === entry.term) highestSame = Math.max(highestSame, index);
      for (const [index, entry] of a) {
        if (index > highestSame) break;
        const other = b.get(index);
        if (other !== undefined) expect({ term: other.term, data: text(other.data) }).toEqual({ term: entry.term, data: text(entry.data) });
      }
    }
  }

  /** A member's in-memory view of its log: what it persisted plus anything unstable is not needed. */
  private entriesOf(node: SimNode): Map<number, Entry> {
    return new Map(node.storage.entries.map((e) => [e.index, e]));
  }

  liveness(): { leader: string; commit: number } {
    this.groups = null;
    const before = Math.max(0, ...[...this.committed.keys()]);
    for (let round = 0; round < 3000; round++) {
      for (const node of this.nodes) node.node.tick();
      this.processAll();
      while (this.network.length > 0) {
        const m = this.network.shift();
        const from = this.nodes.find((n) => n.id === m?.from);
        const to = this.nodes.find((n) => n.id === m?.to);
        if (m !== undefined && to !== undefined) {
          to.node.step(m);
          if (m.type === 'snapshot') from?.node.reportSnapshot(m.to, true);
        }
        this.processAll();
      }
      this.check();
      if (round % 20 === 0) this.propose();
      const leader = this.nodes.find((n) => n.node.status().role === 'leader');
      const commits = this.nodes.map((n) => n.node.status().commit);
      if (leader !== undefined && commits.every((c) => c === commits[0]) && (commits[0] ?? 0) > before) return { leader: leader.id, commit: commits[0] ?? 0 };
    }
    throw new Error('cluster did not converge after healing');
  }
}

describe('random clusters (safety under faults, then liveness)', () => {
  for (let seed = 1; seed <= seeds; seed++) {
    it(`seed ${seed}`, () => {
      const random = new Prng(seed);
      const cluster = new RandomCluster(random, random.chance(0.5) ? 3 : 5, seed);
      try {
        for (let step = 0; step < stepsPerSeed; step++) cluster.step(true);
        const { commit } = cluster.liveness();
        expect(commit).toBeGreaterThan(0);
      } catch (error) {
        console.error(`replay: RAFT_RANDOM_SEEDS=${seed} npx vitest run --project unit test/raft/random-cluster.test.ts -t "seed ${seed}$"`);
        throw error;
      }
    });
  }
});
