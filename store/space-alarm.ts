/**
 * The NOSPACE alarm (etcd's design): a member whose data passes its space quota keeps running
 * Raft and serving reads, and the cluster refuses client writes that add data with a typed
 * StorageFullError until space is freed and an operator disarms the alarm.
 *
 * Three parts, so that nothing ever throws inside the Raft driver's Ready loop:
 * - before proposing: the leader raises the alarm when its own usage is at its quota, and refuses
 *   such a write when the alarm is raised or about to be;
 * - through the log: the alarm is a replicated command (`alarmRaise`), so from its index on every
 *   member refuses the same commands at apply, deterministically (store/mvcc/alarm-table.ts);
 *   writes already in the log when it applies are refused there too;
 * - every member checks its own usage every `checkEveryMs` and raises the alarm through the
 *   leader when its own disk is the full one (a follower's disk fills with the same data).
 *
 * Decision: a write with a request id is never refused before proposing; it is proposed behind
 * the alarm and refused at apply. It may be the retry of an attempt that is still in the log and
 * may yet apply: refusing the retry up front would report "not applied" for a write that then
 * applies. In the log, the earlier attempt applies first and the retry gets its outcome from the
 * dedup table, whatever it was. The cost is one log entry per such refused write (bounded by
 * the snapshot interval until the log is compacted).
 *
 * Deletes, compaction, lease revocations and checkpoints keep applying, so space can be freed;
 * `alarmDisarm` (`kubus alarm disarm`) clears the alarm, and a member still over its quota raises
 * it again at its next check.
 */
import type { Clock } from '../bus/clock.js';
import type { SpaceUsage } from './backend.js';
import { StorageFullError } from './errors.js';
import { addsData } from './mvcc/index.js';
import type { AlarmInfo, WriteCommand } from './mvcc/types.js';
import type { RaftDriver } from './raft-driver.js';
import type { MemberId } from './raft/types.js';

export const spaceAlarmLimits = {
  /** Each member compares its usage with its quota this often: writes fail within about this long of a follower filling up. */
  checkEveryMs: 500,
} as const;

export interface SpaceAlarmOptions {
  readonly self: MemberId;
  readonly driver: RaftDriver;
  readonly clock: Clock;
  /** This member's usage and quota (Backend.space). */
  readonly space: () => SpaceUsage;
  /** Proposes a command through the current leader when this member is not the leader. */
  readonly forward: (leader: MemberId, command: WriteCommand) => Promise<unknown>;
}

export class SpaceAlarm {
  private raising = false;
  private nextCheckMs = 0;
  /**
   * The raised alarms as last read, or null once an entry applied or a snapshot restored since.
   * Decision: the alarm table changes only by applying (alarmRaise, alarmDisarm) or restoring, so
   * the list read for one write stays exact until the next apply: admission reads the table once
   * per Ready instead of once per write (an LMDB range per put was 8% of a leader's CPU at 256 clients).
   */
  private alarmsRead: readonly AlarmInfo[] | null = null;
  /** Set while following the driver's applies (between start and stop); without it nothing is kept. */
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: SpaceAlarmOptions) {}

  /** Follows the driver's applies, so the alarms read for one write serve until the next apply. */
  start(): void {
    if (this.unsubscribe !== null) return;
    const forget = (): void => {
      this.alarmsRead = null;
    };
    this.unsubscribe = this.options.driver.subscribe({ entryApplied: forget, snapshotRestored: forget });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.alarmsRead = null;
  }

  /**
   * Before a client write is proposed. Throws StorageFullError (nothing was proposed) for a write
   * that adds data without a request id; one with a request id goes on to the log, behind the
   * alarm, and is refused at apply (see the decision above).
   */
  admit(command: WriteCommand, requestId: string | null): void {
    const { driver } = this.options;
    // A follower answers NotLeader from the driver; the leader decides for the cluster.
    if (!addsData(command) || !driver.isLeader()) return;
    const usage = this.options.space();
    const full = usage.usedBytes >= usage.quotaBytes;
    // Proposed now, so it precedes the write in the log.
    if (full && !this.ownAlarmRaised()) this.raise(usage);
    if (requestId !== null) return;
    const raised = nospace(this.alarms());
    if (raised !== undefined) throw new StorageFullError(raised.usedBytes, raised.quotaBytes, raised.member);
    if (full) throw new StorageFullError(usage.usedBytes, usage.quotaBytes, this.options.self);
  }

  /** From the member's tick: raises this member's alarm when its own usage reached its quota. */
  tick(): void {
    const now = this.options.clock.now();
    if (now < this.nextCheckMs) return;
    this.nextCheckMs = now + spaceAlarmLimits.checkEveryMs;
    const usage = this.options.space();
    if (usage.usedBytes < usage.quotaBytes) return;
    // A member outside the configuration (removed, not joined yet) must not stop the cluster's writes.
    const { id, conf } = this.options.driver.status();
    if (!conf.voters.includes(id) && !conf.learners.includes(id)) return;
    if (!this.ownAlarmRaised()) this.raise(usage);
  }

  private alarms(): readonly AlarmInfo[] {
    if (this.unsubscribe === null) return this.options.driver.mvcc.alarms();
    this.alarmsRead ??= this.options.driver.mvcc.alarms();
    return this.alarmsRead;
  }

  private ownAlarmRaised(): boolean {
    return this.alarms().some((alarm) => alarm.alarm === 'nospace' && alarm.member === this.options.self);
  }

  /** One raise in flight at a time; a lost one is retried at the next check. */
  private raise(usage: SpaceUsage): void {
    if (this.raising) return;
    const { driver, self } = this.options;
    const command: WriteCommand = { type: 'alarmRaise', alarm: { alarm: 'nospace', member: self, usedBytes: usage.usedBytes, quotaBytes: usage.quotaBytes } };
    const leader = driver.status().leader;
    let sent: Promise<unknown>;
    try {
      if (driver.isLeader()) sent = driver.write(command, null);
      else if (leader !== null) sent = this.options.forward(leader, command);
      else return;
    } catch {
      return;
    }
    this.raising = true;
    sent.then(
      () => (this.raising = false),
      () => (this.raising = false),
    );
  }
}

function nospace(alarms: readonly AlarmInfo[]): AlarmInfo | undefined {
  return alarms.find((alarm) => alarm.alarm === 'nospace');
}
