/**
 * The in-memory Raft log is bounded in bytes, not only by the snapshot interval's entry count
 * (10,000 entries of 1.5 MiB would be 15 GiB): past `bytesMax` the leader's own appends are
 * refused with ProposalDroppedError and leave the log unchanged, a follower takes only the part of
 * an append that fits and vouches for no more, and compaction, truncation and a received snapshot
 * give the bytes back. An empty log always takes one entry, so an entry larger than the bound
 * cannot wedge replication. Before the fix the log took everything.
 *
 * How: RaftLog alone with a 10-byte bound and 4-byte entries.
 */
import { describe, expect, it } from 'vitest';
import { ProposalDroppedError } from '../../store/index.js';
import { RaftLog } from '../../store/raft/raft-log.js';
import type { Entry } from '../../store/raft/index.js';
import { raftLimits } from '../../store/raft/limits.js';

const conf = { voters: ['s1'], learners: [] };

function entry(index: number, term = 1, size = 4): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(size).fill(index) };
}

function emptyLog(): RaftLog {
  return new RaftLog(null, [], { committed: 0, applied: 0, bytesMax: 10 });
}

describe('the in-memory Raft log is bounded in bytes', () => {
  it('the leader appends until the bound, then refuses without changing the log', () => {
    const log = emptyLog();
    log.append(entry(1));
    log.append(entry(2));
    expect(() => log.append(entry(3))).toThrow(ProposalDroppedError);
    expect(() => log.append(entry(3))).toThrow('the in-memory Raft log holds 8 bytes awaiting a snapshot (limit 10)');
    expect([log.lastIndex(), log.bytesHeld()]).toEqual([2, 8]);
    // An empty entry (a new leader's no-op) never counts against the bound.
    log.append(entry(3, 1, 0));
    expect([log.lastIndex(), log.bytesHeld()]).toEqual([3, 8]);
  });

  it('compaction gives the bytes back', () => {
    const log = emptyLog();
    log.append(entry(1));
    log.append(entry(2));
    log.commitTo(1);
    log.appliedTo(1);
    log.compact({ index: 1, term: 1, conf });
    expect(log.bytesHeld()).toBe(4);
    log.append(entry(3));
    expect([log.lastIndex(), log.bytesHeld()]).toEqual([3, 8]);
  });

  it('a follower takes the prefix that fits and vouches only for it', () => {
    const log = emptyLog();
    const lastNew = log.appendFromLeader(0, [entry(1), entry(2), entry(3), entry(4)]);
    expect([lastNew, log.lastIndex(), log.bytesHeld()]).toEqual([2, 2, 8]);
    // The leader resends from 3 once entries 1-2 are compacted.
    log.commitTo(2);
    log.appliedTo(2);
    log.compact({ index: 2, term: 1, conf });
    expect(log.appendFromLeader(2, [entry(3), entry(4)])).toBe(4);
    expect([log.lastIndex(), log.bytesHeld()]).toEqual([4, 8]);
  });

  it('a conflicting suffix truncated by the leader gives its bytes back', () => {
    const log = emptyLog();
    log.appendFromLeader(0, [entry(1), entry(2)]);
    expect(log.appendFromLeader(0, [entry(1, 2, 1), entry(2, 2, 1)])).toBe(2);
    expect(log.bytesHeld()).toBe(2);
  });

  it('an empty log takes one entry larger than the bound', () => {
    const log = emptyLog();
    expect(log.appendFromLeader(0, [entry(1, 1, 20), entry(2)])).toBe(1);
    expect(log.bytesHeld()).toBe(20);
  });

  it('a received snapshot empties the log and its byte count', () => {
    const log = emptyLog();
    log.appendFromLeader(0, [entry(1), entry(2)]);
    log.restore({ meta: { index: 5, term: 1, conf }, data: new Uint8Array(0) });
    expect([log.lastIndex(), log.bytesHeld()]).toEqual([5, 0]);
  });

  it('entries loaded at start-up count, and the default bound is the named limit', () => {
    const log = new RaftLog(null, [entry(1), entry(2)], { committed: 0, applied: 0 });
    expect(log.bytesHeld()).toBe(8);
    expect(raftLimits.logBytesMax).toBe(256 * 1024 * 1024);
  });
});
