/**
 * Raft's safety properties, checked while a simulation runs:
 * - election safety: at most one leader per term;
 * - state machine safety: every member applies the same entry at each index (identical applied
 *   sequences), which with the next check gives log matching for everything committed;
 * - log matching: where two members' logs hold an entry of the same index and term, the logs are
 *   identical up to that index (checked after every change to a persisted log, on a mirror of
 *   each log kept from the driver's `logPersisted` events, and over the stored logs at checkpoints);
 * - leader completeness: a member that becomes leader holds every entry applied anywhere before;
 * - durable log: after a crash and after a received snapshot, the log on disk beyond its snapshot
 *   is exactly the log the member had made durable (its mirror): nothing it dropped comes back,
 *   nothing it persisted is lost. A power cut during a save may keep part of that save (its
 *   bytes were written, not yet synced): the disk may then also hold what that batch wrote, and
 *   lack what it would have replaced; the mirror then follows the disk.
 * A violation throws at once with the seed's context, so the run stops where it broke.
 */
import { createHash } from 'node:crypto';
import type { Entry, MemberId } from '../../store/index.js';
import type { RaftDriver, RaftLogBatch } from '../../store/index.js';
import type { SimCluster } from './sim-cluster.js';

export const safetyCheckLimits = {
  /** The full log-matching pass over two mirrors runs once per this many persisted batches. */
  fullMatchEveryPersists: 16,
} as const;

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

function entryDigest(entry: Entry): string {
  return createHash('sha1').update(`${entry.term}/${entry.type}/`).update(entry.data).digest('hex').slice(0, 16);
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, MemberId>();
  private readonly appliedAt = new Map<number, { digest: string; term: number; by: MemberId }>();
  /** Each member's persisted log as `index → term:digest`. */
  private readonly mirrors = new Map<MemberId, Map<number, string>>();
  private highestApplied = 0;
  private persists = 0;
  checks = 0;

  constructor(private readonly cluster: SimCluster) {
    cluster.onMemberStarted((id, driver) => this.watch(id, driver));
    cluster.onMemberCrashed((id) => this.checkDurableLog(id));
  }

  /** The log a restart will load must be the one the member last made durable (and maybe part of an interrupted save). */
  checkDurableLog(id: MemberId): void {
    this.checks++;
    const disk = this.cluster.disk(id);
    const interrupted = disk.interruptedSave;
    const mirror = this.mirrors.get(id) ?? new Map<number, string>();
    const state = disk.storedLog('written');
    const snapshotIndex = state.snapshot?.meta.index ?? 0;
    const onDisk = new Map<number, string>();
    for (const entry of state.entries) if (entry.index > snapshotIndex) onDisk.set(entry.index, `${entry.term}:${entryDigest(entry)}`);
    const saving = interruptedEntries(interrupted);
    for (const [index, value] of onDisk) {
      if (mirror.get(index) !== value && saving.get(index) !== value) {
        throw new SafetyViolation(`durable log: ${id}'s disk holds ${value.split(':')[0]}/${index} beyond its snapshot at ${snapshotIndex}, which its log no longer had (${mirror.get(index) ?? 'nothing'})`);
      }
    }
    for (const [index, value] of mirror) {
      if (index > snapshotIndex && !onDisk.has(index) && !replacedBy(interrupted, index)) {
        throw new SafetyViolation(`durable log: ${id}'s disk lost ${value.split(':')[0]}/${index}, which it had made durable`);
      }
    }
    if (interrupted !== null) this.mirrors.set(id, onDisk);
  }

  private watch(id: MemberId, driver: RaftDriver): void {
    driver.subscribe({
      entryApplied: (entry) => this.onApplied(id, entry),
      logPersisted: (entries, snapshot) => this.onPersisted(id, entries, snapshot),
      roleChanged: (role, _leader, term) => {
        if (role === 'leader') this.onLeader(id, term, driver);
      },
    });
  }

  private onApplied(id: MemberId, entry: Entry): void {
    this.checks++;
    const digest = entryDigest(entry);
    const seen = this.appliedAt.get(entry.index);
    if (seen === undefined) {
      this.appliedAt.set(entry.index, { digest, term: entry.term, by: id });
      this.highestApplied = Math.max(this.highestApplied, entry.index);
    } else if (seen.digest !== digest) {
      throw new SafetyViolation(`state machine safety: ${id} applied ${entry.term}/${entry.index} but ${seen.by} applied ${seen.term}/${entry.index} there`);
    }
  }

  private onLeader(id: MemberId, term: number, driver: RaftDriver): void {
    this.checks++;
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) throw new SafetyViolation(`election safety: ${other} and ${id} both leaders of term ${term}`);
    this.leaderOfTerm.set(term, id);
    // Leader completeness: every entry applied anywhere must be in the new leader's log (or in
    // its snapshot). Its log is its mirror: checkDurableLog holds the mirror to the disk.
    const status = driver.raftStatus();
    const mirror = this.mirrors.get(id) ?? new Map<number, string>();
    const from = Math.max(status.snapshotIndex + 1, 1);
    const to = Math.min(this.highestApplied, status.lastIndex);
    if (this.highestApplied > status.lastIndex) {
      throw new SafetyViolation(`leader completeness: ${id} leads term ${term} with last index ${status.lastIndex} but index ${this.highestApplied} was applied`);
    }
    for (let index = from; index <= to; index++) {
      const applied = this.appliedAt.get(index);
      const held = mirror.get(index);
      if (applied !== undefined && held !== `${applied.term}:${applied.digest}`) {
        throw new SafetyViolation(`leader completeness: ${id} (term ${term}) holds ${held === undefined ? 'nothing' : held.split(':')[0]}/${index}, but ${applied.term}/${index} was applied`);
      }
    }
  }

  private onPersisted(id: MemberId, entries: readonly Entry[], snapshot: { index: number; received: boolean } | null): void {
    this.checks++;
    let mirror = this.mirrors.get(id);
    if (mirror === undefined) this.mirrors.set(id, (mirror = new Map()));
    if (snapshot !== null) {
      // A received snapshot may keep a matching tail; forgetting it only means checking less.
      for (const index of [...mirror.keys()]) if (snapshot.received || index <= snapshot.index) mirror.delete(index);
    }
    const first = entries[0]?.index;
    if (first !== undefined) for (const index of [...mirror.keys()]) if (index >= first) mirror.delete(index);
    for (const entry of entries) mirror.set(entry.index, `${entry.term}:${entryDigest(entry)}`);
    // Same index and term, same entry: checked for every new entry. The whole-prefix check costs a
    // pass over both logs, so it runs every few persists (and over the stored logs at checkpoints).
    for (const [otherId, other] of this.mirrors) {
      if (otherId === id) continue;
      for (const entry of entries) {
        const mine = mirror.get(entry.index) as string;
        const theirs = other.get(entry.index);
        if (theirs !== undefined && theirs !== mine && theirs.split(':')[0] === mine.split(':')[0]) {
          throw new SafetyViolation(`log matching: ${id} and ${otherId} hold different entries of term ${mine.split(':')[0]} at index ${entry.index}`);
        }
      }
    }
    // A received snapshot replaces the whole log: the disk must hold nothing beyond it now.
    if (snapshot?.received === true) this.checkDurableLog(id);
    this.persists = (this.persists + 1) % safetyCheckLimits.fullMatchEveryPersists;
    if (this.persists === 0) for (const [otherId, other] of this.mirrors) if (otherId !== id) matchLogs(id, mirror, otherId, other);
  }

  /** Log matching over the persisted logs of every member: expensive, so run at checkpoints. */
  checkLogMatching(): void {
    this.checks++;
    const logs = this.cluster.memberIds.map((id) => {
      const byIndex = new Map<number, string>();
      for (const entry of this.cluster.disk(id).storedLog('written').entries) byIndex.set(entry.index, `${entry.term}:${entryDigest(entry)}`);
      return { id, byIndex };
    });
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const left = logs[a];
        const right = logs[b];
        if (left === undefined || right === undefined) continue;
        for (const [index, value] of left.byIndex) {
          const other = right.byIndex.get(index);
          if (other === undefined) continue;
          const [termLeft] = value.split(':');
          const [termRight] = other.split(':');
          if (termLeft === termRight && value !== other) {
            throw new SafetyViolation(`log matching: ${left.id} and ${right.id} hold different entries of term ${termLeft} at index ${index}`);
          }
        }
      }
    }
  }

  appliedCount(): number {
    return this.appliedAt.size;
  }
}

/** The entries an interrupted save was writing, by index. */
function interruptedEntries(batch: RaftLogBatch | null): Map<number, string> {
  const byIndex = new Map<number, string>();
  for (const entry of batch?.entries ?? []) byIndex.set(entry.index, `${entry.term}:${entryDigest(entry)}`);
  return byIndex;
}

/** Whether an interrupted save would have removed the entry at `index` (a received snapshot replaces the whole log; new entries replace a tail). */
function replacedBy(batch: RaftLogBatch | null, index: number): boolean {
  if (batch === null) return false;
  const first = batch.entries[0]?.index;
  return batch.snapshot !== null || (first !== undefined && first <= index);
}

/** If two logs hold an entry of the same index and term, every entry both hold up to it is identical. */
export function matchLogs(leftId: MemberId, left: ReadonlyMap<number, string>, rightId: MemberId, right: ReadonlyMap<number, string>): void {
  let agreedUpTo = 0;
  for (const [index, value] of left) {
    const other = right.get(index);
    if (other !== undefined && value.split(':')[0] === other.split(':')[0]) agreedUpTo = Math.max(agreedUpTo, index);
  }
  for (const [index, value] of left) {
    if (index > agreedUpTo) continue;
    const other = right.get(index);
    if (other !== undefined && other !== value) {
      throw new SafetyViolation(`log matching: ${leftId} and ${rightId} agree on an entry at ${agreedUpTo} but differ at ${index} (${value} vs ${other})`);
    }
  }
}
