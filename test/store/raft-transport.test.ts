/**
 * The Raft transport against hostile input, on the simulated network: a member publishes
 * malformed batches and snapshot chunks (the `chunk: null` that used to kill the receiver, bad
 * indexes, forged senders, huge chunk counts, chunks that disagree with their transfer) and the
 * receiver drops each with a log line, hands nothing to the core, answers chunks `ok: false`,
 * and still delivers well-formed messages and snapshots afterwards.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, decode, encode, subjects, type Logger } from '../../bus/index.js';
import { RaftTransport } from '../../store/raft-transport.js';
import { checkRaftMessage } from '../../store/raft-wire-check.js';
import type { Message } from '../../store/raft/types.js';
import { simHarness } from '../bus/sim-harness.js';

const cluster = 'c';
const names = subjects(cluster);

function setup() {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(7) });
  const received: Message[] = [];
  const warnings: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (_message, fields) => void warnings.push(fields ?? {}),
    child: () => logger,
  };
  const transport = new RaftTransport({
    bus: network.connect('s2'), cluster, self: 's2', logger,
    onMessages: (messages) => void received.push(...messages), onSnapshotSent: () => undefined,
  });
  transport.start();
  const attacker = network.connect('s1');
  const h = simHarness(clock);
  const chunkReply = async (chunk: unknown): Promise<{ ok: boolean }> =>
    decode(await h.settle(attacker.request(names.raftSnapshot('s1', 's2'), encode(chunk), { timeoutMs: 500 }), 1_000));
  const publishBatch = async (batch: unknown): Promise<void> => {
    attacker.publish(names.raft('s1', 's2'), encode(batch));
    await h.waitFor(() => true, 10);
    clock.advance(5);
    await h.waitFor(() => true, 10);
  };
  return { transport, received, warnings, chunkReply, publishBatch };
}

const meta = { index: 10, term: 2, conf: { voters: ['s1', 's2', 's3'], learners: [] } };
const goodChunk = { from: 's1', to: 's2', term: 2, transferId: 's1-10-1', meta, chunkIndex: 0, chunkCount: 1, chunk: new Uint8Array([1, 2, 3]) };
const heartbeat = { type: 'heartbeat', from: 's1', to: 's2', term: 2, commit: 3, context: '' };
const append = (entries: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'append', from: 's1', to: 's2', term: 3, prevIndex: 4, prevTerm: 2, commit: 4, entries, ...extra,
});
const entry = (index: number, term: number) => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

describe('raft transport: hostile input is dropped, never thrown', () => {
  it('drops malformed snapshot chunks with ok: false and a log line, then installs a good one', async () => {
    const { transport, received, warnings, chunkReply } = setup();
    const bad: unknown[] = [
      { ...goodChunk, chunk: null },
      { ...goodChunk, chunk: 'text' },
      { ...goodChunk, chunkCount: 2 ** 32 },
      { ...goodChunk, chunkIndex: -1 },
      { ...goodChunk, chunkIndex: 1.5 },
      { ...goodChunk, meta: null },
      { ...goodChunk, meta: { ...meta, conf: { voters: ['a.b'], learners: [] } } },
      { ...goodChunk, term: '2' },
      { ...goodChunk, from: 's3' },
      { ...goodChunk, to: 's9' },
      { ...goodChunk, chunk: new Uint8Array(256 * 1024 + 1) },
      null, 42, [],
    ];
    for (const chunk of bad) expect(await chunkReply(chunk)).toEqual({ ok: false });
    expect(received).toEqual([]);
    expect(transport.invalidDropped()).toBe(bad.length);
    // 1st, 2nd, 4th, 8th drop are logged: bounded, and each names the reason.
    expect(warnings.length).toBe(4);
    expect(warnings[0]).toMatchObject({ reason: 'snapshot chunk: field chunk is invalid' });

    expect(await chunkReply(goodChunk)).toEqual({ ok: true });
    expect(received.map((m) => m.type)).toEqual(['snapshot']);
  });

  it('refuses a chunk that disagrees with its transfer (count, term or metadata)', async () => {
    const { received, chunkReply } = setup();
    const first = { ...goodChunk, chunkCount: 2, chunk: new Uint8Array([1]) };
    expect(await chunkReply(first)).toEqual({ ok: true });
    // Same transfer id, but one chunk in all: would complete the assembly with a hole.
    expect(await chunkReply({ ...goodChunk, chunkIndex: 0, chunkCount: 1 })).toEqual({ ok: false });
    expect(await chunkReply({ ...first, chunkIndex: 1, term: 5 })).toEqual({ ok: false });
    expect(await chunkReply({ ...first, chunkIndex: 1, meta: { ...meta, index: 11 } })).toEqual({ ok: false });
    expect(received).toEqual([]);
    expect(await chunkReply({ ...first, chunkIndex: 1, chunk: new Uint8Array([2]) })).toEqual({ ok: true });
    expect(received).toHaveLength(1);
    const snapshot = received[0] as Extract<Message, { type: 'snapshot' }>;
    expect([...snapshot.snapshot.data]).toEqual([1, 2]);
    expect(snapshot.snapshot.meta).toEqual(meta);
  });

  it('drops malformed batches whole and passes well-formed ones', async () => {
    const { transport, received, publishBatch } = setup();
    const batches: unknown[] = [
      { from: 's1', messages: [{ ...heartbeat, commit: -1 }] },
      { from: 's1', messages: [{ ...heartbeat, commit: null }] },
      { from: 's1', messages: [{ ...heartbeat, type: 'snapshot', snapshot: { meta, data: new Uint8Array(0) } }] },
      { from: 's1', messages: [append([entry(5, 2), entry(7, 2)])] },
      { from: 's1', messages: [append([entry(5, 4)])] },
      { from: 's1', messages: [append([{ ...entry(5, 2), data: null }])] },
      { from: 's1', messages: [append(null as unknown as unknown[])] },
      { from: 's1', messages: [heartbeat, { ...heartbeat, from: 's3' }] },
      { from: 's1', messages: 'x' },
      { from: 's3', messages: [heartbeat] },
      'garbage',
    ];
    for (const batch of batches) await publishBatch(batch);
    expect(received).toEqual([]);
    expect(transport.invalidDropped()).toBe(batches.length);

    await publishBatch({ from: 's1', messages: [heartbeat, append([entry(5, 2), entry(6, 3)])] });
    expect(received.map((m) => m.type)).toEqual(['heartbeat', 'append']);
  });
});

describe('checkRaftMessage', () => {
  it('accepts every message type a member sends', () => {
    const ok: Record<string, unknown>[] = [
      append([]), append([entry(5, 2)]),
      { type: 'appendResponse', from: 's1', to: 's2', term: 1, reject: false, index: 3, rejectHint: 0 },
      { type: 'vote', from: 's1', to: 's2', term: 1, lastIndex: 3, lastTerm: 1, force: false },
      { type: 'preVote', from: 's1', to: 's2', term: 1, lastIndex: 3, lastTerm: 1, force: true },
      { type: 'voteResponse', from: 's1', to: 's2', term: 1, reject: true },
      { type: 'preVoteResponse', from: 's1', to: 's2', term: 1, reject: false },
      heartbeat,
      { type: 'heartbeatResponse', from: 's1', to: 's2', term: 1, context: 's2:4' },
      { type: 'timeoutNow', from: 's1', to: 's2', term: 1 },
      { type: 'readIndex', from: 's1', to: 's2', term: 1, context: 's1:1' },
      { type: 'readIndexResponse', from: 's1', to: 's2', term: 1, context: 's1:1', index: 9, reject: false },
    ];
    for (const message of ok) expect(checkRaftMessage(message, 's1', 's2')).toBeNull();
  });

  it('names the field that is wrong', () => {
    expect(checkRaftMessage({ ...heartbeat, term: -1 }, 's1', 's2')).toBe('field term is invalid');
    expect(checkRaftMessage({ ...heartbeat, context: 'x'.repeat(257) }, 's1', 's2')).toBe('field context is invalid');
    expect(checkRaftMessage({ ...heartbeat, type: 'constructor' }, 's1', 's2')).toBe('unknown type "constructor"');
    expect(checkRaftMessage({ type: 'vote', from: 's1', to: 's2', term: 1, lastIndex: 3, lastTerm: 1 }, 's1', 's2')).toBe('field force is invalid');
  });
});
