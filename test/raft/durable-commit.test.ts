/**
 * Defect A, on the pure core: a leader never hands out an append or heartbeat whose commit index
 * is beyond its own durable log. A driver may send a leader's appends before its disk write
 * (Raft thesis 10.2.1), so every such message of a Ready must be safe to send while that Ready's
 * entries are not yet on disk: its commit may not exceed the last index persisted by earlier
 * Readys. Before the fix a single voter committed at append time, so the first write after adding
 * a learner already broke this.
 *
 * How: members built on the test cluster's SimNode (persist, then advance, as the driver does)
 * grow from one voter to three through learners, with writes pipelined several per Ready and a
 * power cut of the leader on the way; before each Ready is persisted, its messages are checked
 * against what the member had persisted until then.
 */
import { describe, expect, it } from 'vitest';
import type { ConfChange, Message } from '../../store/raft/index.js';
import { bytes, defaultNodeOptions, SimNode } from './cluster.js';

const roundsMax = 200;

class GrowingCluster {
  readonly nodes = new Map<string, SimNode>();
  private queue: Message[] = [];
  /** Every append or heartbeat whose commit was beyond its sender's persisted log when handed out. */
  readonly violations: string[] = [];
  /** Appends checked, so that a test cannot pass by checking nothing. */
  checked = 0;

  constructor(ids: readonly string[]) {
    ids.forEach((id, i) => this.nodes.set(id, new SimNode(id, { voters: ['s1'], learners: [] }, defaultNodeOptions, 7 + i)));
  }

  node(id: string): SimNode {
    const sim = this.nodes.get(id);
    if (sim === undefined) throw new Error(`no member ${id}`);
    return sim;
  }

  /** Processes every Ready and delivers every message until nothing moves. */
  stabilize(): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false;
      for (const sim of this.nodes.values()) {
        while (sim.node.hasReady()) {
          moved = true;
          this.processOne(sim);
        }
      }
      const now = this.queue;
      this.queue = [];
      for (const m of now) this.node(m.to).node.step(m);
      if (!moved && now.length === 0) return;
    }
    throw new Error(`not stable after ${roundsMax} rounds`);
  }

  private processOne(sim: SimNode): void {
    const durableLast = persistedLastIndex(sim);
    const ready = sim.handleReady();
    for (const m of ready.messages) {
      if (m.type !== 'append' && m.type !== 'heartbeat') continue;
      this.checked++;
      if (m.commit > durableLast) this.violations.push(`${m.from}->${m.to} ${m.type} t${m.term} commit=${m.commit} but ${m.from} had persisted up to ${durableLast}`);
    }
    this.queue.push(...ready.messages);
  }

  campaign(id: string): void {
    const sim = this.node(id);
    for (let i = 0; i < 2 * defaultNodeOptions.electionTicks && sim.node.status().role !== 'leader'; i++) sim.node.tick();
    expect(sim.node.status().role).toBe('leader');
  }

  change(change: ConfChange): void {
    this.node('s1').node.proposeConfChange(change);
    this.stabilize();
  }

  /** Several writes before one Ready: they are handed out (and sent early) together. */
  write(count: number, tag: string): void {
    for (let i = 0; i < count; i++) this.node('s1').node.propose(bytes(`${tag}${i}`));
    this.stabilize();
  }
}

function persistedLastIndex(sim: SimNode): number {
  const entries = sim.storage.entries;
  return entries[entries.length - 1]?.index ?? sim.storage.snapshot?.meta.index ?? 0;
}

describe('a leader announces no commit beyond its durable log (defect A)', () => {
  it('growing 1 -> 3 through learners, with a power cut of the single voter', () => {
    const cluster = new GrowingCluster(['s1', 's2', 's3']);
    cluster.campaign('s1');
    cluster.stabilize();
    cluster.change({ type: 'addLearner', member: 's2' });
    cluster.write(3, 'a');
    // The single voter loses power and comes back with what it persisted, then wins a new term.
    cluster.node('s1').restart();
    cluster.campaign('s1');
    cluster.stabilize();
    cluster.write(3, 'b');
    cluster.change({ type: 'promote', member: 's2' });
    cluster.write(3, 'c');
    cluster.change({ type: 'addLearner', member: 's3' });
    cluster.write(3, 'd');
    cluster.change({ type: 'promote', member: 's3' });
    cluster.write(3, 'e');

    expect(cluster.violations).toEqual([]);
    expect(cluster.checked).toBeGreaterThan(20);
    const status = cluster.node('s1').node.status();
    // 2 no-ops, 4 conf changes and 15 writes, all committed and applied everywhere.
    expect([status.role, status.commit, status.conf.voters]).toEqual(['leader', 21, ['s1', 's2', 's3']]);
    for (const sim of cluster.nodes.values()) expect(sim.appliedIndex).toBe(21);
  });

  it('a single voter commits its entries only in the Ready after the one that persisted them', () => {
    const cluster = new GrowingCluster(['s1']);
    cluster.campaign('s1');
    const s1 = cluster.node('s1');
    const first = s1.handleReady();
    expect([first.hardState?.commit, first.entries.map((e) => e.index), first.committedEntries.length]).toEqual([0, [1], 0]);
    const second = s1.handleReady();
    expect([second.hardState?.commit, second.entries.length, second.committedEntries.map((e) => e.index)]).toEqual([1, 0, [1]]);
    expect(s1.node.hasReady()).toBe(false);
  });
});
