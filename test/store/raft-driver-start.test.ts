/**
 * What a driver finds at start (issue 14): the Raft log is the durable record and the state
 * machine is written without sync, so after a power cut the state machine may hold less than the
 * log (it is rebuilt: the log's snapshot restored, the entries after it applied again) but never
 * more (a log that ends before what was applied was lost or replaced: refused).
 *
 * Here the log and the state machine live on two MemoryBackends: the log's saves are durable when
 * they sync, the state machine's transactions never are, so a crash loses every apply.
 */
import { describe, expect, it } from 'vitest';
import { BackendRaftLog } from '../../store/backend-raft-log.js';
import { CorruptedDataError } from '../../store/errors.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { RaftDriver } from '../../store/raft-driver.js';
import { readAppliedIndex } from '../../store/raft-log-store.js';
import { startSingleMember, type SingleMember } from './single-member-driver.js';


interface Disk {
  state: MemoryBackend;
  log: MemoryBackend;
}

function start(disk: Disk, snapshotEveryEntries: number): SingleMember {
  return startSingleMember({ backend: disk.state, log: new BackendRaftLog(disk.log) }, { snapshotEveryEntries, seed: 5 });
}

async function putAll(member: ReturnType<typeof start>, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const done = member.driver.write({ type: 'put', request: { key: `k/${String(i).padStart(3, '0')}`, value: new TextEncoder().encode(`v${i}`) } }, null);
    await member.settle();
    await done;
  }
}

function keys(driver: RaftDriver): string[] {
  return driver.mvcc.range({ key: 'k/', end: 'k0' }).kvs.map((kv) => kv.key);
}

/** A power cut: each backend keeps its durable transactions only. */
function crash(disk: Disk, driver: RaftDriver): Disk {
  driver.stop();
  return { state: disk.state.reopen(), log: disk.log.reopen() };
}

describe('a driver starting on a state machine behind its log', () => {
  it('rebuilds every applied write from the log, through its snapshot, after the state machine lost them all', async () => {
    let disk: Disk = { state: new MemoryBackend(), log: new MemoryBackend() };
    let member = start(disk, 10);
    await putAll(member, 25);
    expect(member.driver.status().snapshotIndex).toBeGreaterThan(1);
    const before = { keys: keys(member.driver), revision: member.driver.mvcc.currentRevision(), applied: member.driver.status().appliedIndex };
    disk = crash(disk, member.driver);
    expect(readAppliedIndex(disk.state.table('meta'))).toBe(0);
    member = start(disk, 10);
    await member.settle();
    expect(keys(member.driver)).toEqual(before.keys);
    expect(member.driver.mvcc.currentRevision()).toBe(before.revision);
    expect(member.driver.status().appliedIndex).toBeGreaterThanOrEqual(before.applied);
  });

  it('refuses to start when the state machine applied beyond the end of the log (the log was lost)', async () => {
    const disk: Disk = { state: new MemoryBackend(), log: new MemoryBackend() };
    const member = start(disk, 10_000);
    await putAll(member, 3);
    member.driver.stop();
    const lost: Disk = { state: disk.state, log: new MemoryBackend() };
    expect(() => start(lost, 10_000)).toThrow(CorruptedDataError);
    expect(() => start(lost, 10_000)).toThrow(/applied up to index \d+, but the log ends at 0/);
  });
});
