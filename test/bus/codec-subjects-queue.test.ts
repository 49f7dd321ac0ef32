/**
 * The small pieces every message depends on: the codec round-trips what kubus sends (plain
 * objects, binary, nested arrays) without records; subject builders produce the documented
 * strings and refuse tokens that would change what a subject matches; the bounded queue keeps its
 * bound and counts drops; the JSON logger filters by level and never throws on odd fields.
 */
import { describe, expect, it } from 'vitest';
import {
  BoundedQueue, InvalidLogLevelError, InvalidSubjectTokenError, QueueOverflowError, createJsonLogger, decode, encode,
  isValidSubject, subjectMatches, subjects,
} from '../../bus/index.js';

describe('codec', () => {
  it('round-trips plain objects, binary and nulls', () => {
    const value = { type: 'append', term: 3, entries: [{ index: 1, data: new Uint8Array([0, 1, 255]) }], hint: null, nested: { list: [1, 'two', true] } };
    const back = decode<typeof value>(encode(value));
    expect(back.entries[0]?.data).toBeInstanceOf(Uint8Array);
    expect([...(back.entries[0]?.data ?? [])]).toEqual([0, 1, 255]);
    expect({ ...back, entries: [] }).toEqual({ ...value, entries: [] });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('is self-describing: a message decodes without the ones before it', () => {
    const shape = { a: 1, b: 'x' };
    encode(shape);
    const second = encode({ a: 2, b: 'y' });
    expect(decode(second)).toEqual({ a: 2, b: 'y' });
  });

  it('throws on truncated or trailing bytes, so a damaged message is refused rather than half-read', () => {
    expect(() => decode(new Uint8Array([0x92, 0x01]))).toThrow();
    expect(() => decode(new Uint8Array([]))).toThrow();
    expect(() => decode(new Uint8Array([0x01, 0x02]))).toThrow();
  });
});

describe('subjects', () => {
  const names = subjects('prod');

  it('builds the documented subjects', () => {
    expect(names.raft('s1', 's2')).toBe('kubus.prod.raft.s1.to.s2');
    expect(names.raftInbound('s2')).toBe('kubus.prod.raft.*.to.s2');
    expect(names.raftSnapshot('s1', 's2')).toBe('kubus.prod.raft.s1.to.s2.snap');
    expect(names.raftSnapshotInbound('s2')).toBe('kubus.prod.raft.*.to.s2.snap');
    expect(names.store('s1')).toBe('kubus.prod.store.s1');
    expect(names.api()).toBe('kubus.prod.api');
    expect(names.nodeAssign('n1')).toBe('kubus.prod.node.n1.assign');
    expect(names.nodeRpc('n1')).toBe('kubus.prod.node.n1.rpc');
    expect(names.nodeAll('n1')).toBe('kubus.prod.node.n1.>');
    expect(names.inbox('client1', 'w7')).toBe('kubus.prod.inbox.client1.w7');
    // raft-transport reads the sender from token 3.
    expect(names.raft('s9', 's1').split('.')[3]).toBe('s9');
  });

  it('keeps raft batches and snapshot chunks on separate subscriptions', () => {
    expect(subjectMatches(names.raftInbound('s2'), names.raft('s1', 's2'))).toBe(true);
    expect(subjectMatches(names.raftInbound('s2'), names.raftSnapshot('s1', 's2'))).toBe(false);
    expect(subjectMatches(names.raftSnapshotInbound('s2'), names.raftSnapshot('s1', 's2'))).toBe(true);
    expect(subjectMatches(names.raftInbound('s2'), names.raft('s1', 's3'))).toBe(false);
    expect(subjectMatches(names.nodeAll('n1'), names.nodeRpc('n1'))).toBe(true);
    expect(subjectMatches(names.nodeAll('n1'), 'kubus.prod.node.n1')).toBe(false);
  });

  it.each(['', 'a.b', 'a b', '*', '>', 'a*', 'tab\t', 'é'])('refuses the token %j', (token) => {
    expect(() => names.store(token)).toThrow(InvalidSubjectTokenError);
    expect(() => subjects(token)).toThrow(InvalidSubjectTokenError);
  });

  it('validates whole subjects', () => {
    expect(isValidSubject('a.*.c.>', { wildcards: true })).toBe(true);
    expect(isValidSubject('a.>.c', { wildcards: true })).toBe(false);
    expect(isValidSubject('a.*', { wildcards: false })).toBe(false);
    expect(isValidSubject('a..b', { wildcards: false })).toBe(false);
  });
});

describe('BoundedQueue', () => {
  it('keeps FIFO order up to its capacity and counts what it refuses', () => {
    const queue = new BoundedQueue<number>('test', 3);
    expect([1, 2, 3, 4].map((n) => queue.offer(n))).toEqual([true, true, true, false]);
    expect(queue.droppedCount()).toBe(1);
    expect(() => queue.push(5)).toThrow(QueueOverflowError);
    expect(queue.shift()).toBe(1);
    queue.push(6);
    expect(queue.drain()).toEqual([2, 3, 6]);
    expect(queue.size).toBe(0);
  });

  it('stays correct across many cycles (compaction)', () => {
    const queue = new BoundedQueue<number>('cycle', 10);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 5_000; round++) {
      queue.push(next++);
      queue.push(next++);
      expect(queue.shift()).toBe(expected++);
      expect(queue.shift()).toBe(expected++);
    }
    expect(queue.size).toBe(0);
  });
});

describe('createJsonLogger', () => {
  it('writes one JSON line per record at or above its level, with child fields', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'info', fields: { member: 's1' }, write: (line) => lines.push(line), timestamp: () => 't' });
    logger.debug('hidden');
    logger.child({ component: 'raft' }).warn('slow', { ms: 12, big: 10n, err: new QueueOverflowError('q', 1), bytes: new Uint8Array(4) });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: 't', level: 'warn', msg: 'slow', member: 's1', component: 'raft', ms: 12, big: '10',
      err: { name: 'QueueOverflowError', message: 'queue q is full (1 items); item dropped', code: 'queueOverflow', fields: { queue: 'q', capacity: 1 } },
      bytes: '<4 bytes>',
    });
  });

  it('refuses an unknown level', () => {
    expect(() => createJsonLogger({ level: 'verbose' })).toThrow(InvalidLogLevelError);
  });
});
