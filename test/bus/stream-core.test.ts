/**
 * The stream protocol without I/O (bus/stream/stream-core.ts): two cores wired by hand, time as
 * numbers. Proves the credit window (a writer never has more than one window in flight and
 * resumes as the reader reads), order and chunking, loss detection (a gap or an overrun resets
 * the stream and tells the peer), half-close in both directions, reset from either side,
 * keepalives while idle and the peer-death timeout, and datagram boundaries.
 */
import { describe, expect, it } from 'vitest';
import { StreamCore, decodeFrame, encodeFrame, type Frame, type StreamAction, type StreamTuning } from '../../bus/stream/index.js';

const tuning: StreamTuning = { windowBytes: 16, chunkBytesMax: 8, keepaliveIntervalMs: 100, peerTimeoutMs: 300 };

function frames(actions: readonly StreamAction[]): Frame[] {
  return actions.flatMap((action) => (action.type === 'send' ? [action.frame] : []));
}
function kinds(actions: readonly StreamAction[]): string[] {
  return actions.map((action) => (action.type === 'send' ? `send ${action.frame.type}` : action.type));
}
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

/** Moves every frame one core sent to the other (through the wire encoding), until both are quiet. */
function exchange(a: StreamCore, b: StreamCore, now: number): { a: StreamAction[]; b: StreamAction[] } {
  const seen = { a: [] as StreamAction[], b: [] as StreamAction[] };
  for (let round = 0; round < 100; round++) {
    const fromA = a.takeActions();
    const fromB = b.takeActions();
    seen.a.push(...fromA);
    seen.b.push(...fromB);
    if (fromA.length === 0 && fromB.length === 0) return seen;
    for (const frame of frames(fromA)) b.receive(decodeFrame(encodeFrame(frame))!, now);
    for (const frame of frames(fromB)) a.receive(decodeFrame(encodeFrame(frame))!, now);
  }
  throw new Error('no quiescence');
}

function pair(mode: 'bytes' | 'datagram' = 'bytes', t: StreamTuning = tuning) {
  const a = new StreamCore({ mode, tuning: t, nowMs: 0, sendLimit: t.windowBytes });
  const b = new StreamCore({ mode, tuning: t, nowMs: 0, sendLimit: t.windowBytes });
  return { a, b };
}

describe('stream core: credit window', () => {
  it('sends at most one window, in chunks, then waits until the reader reads', () => {
    const { a, b } = pair();
    a.write(bytes(40), 1, 0);
    const sent = frames(a.takeActions());
    expect(sent.map((f) => (f.type === 'data' ? f.payload.byteLength : f.type))).toEqual([8, 8]);
    expect(a.unsentBytes()).toBe(24);
    for (const frame of sent) b.receive(frame, 0);
    expect(kinds(b.takeActions())).toEqual(['deliver', 'deliver']);
    expect(b.bufferedBytes()).toBe(16);
    // Reading less than half a window grants nothing yet; half a window re-advertises.
    b.consumed(4, 1);
    expect(b.takeActions()).toEqual([]);
    b.consumed(8, 1);
    const window = frames(b.takeActions());
    expect(window).toEqual([{ type: 'window', limit: 24 }]);
    a.receive(window[0]!, 1);
    expect(frames(a.takeActions()).map((f) => f.type === 'data' && f.payload.byteLength)).toEqual([8]);
    expect(a.unsentBytes()).toBe(16);
  });

  it('completes a write only once all of it is sent, in order, and delivers the bytes in order', () => {
    const { a, b } = pair();
    const payload = Uint8Array.from({ length: 50 }, (_, i) => i);
    a.write(payload, 7, 0);
    a.write(Uint8Array.of(200), 8, 0);
    const received: number[] = [];
    const done: number[] = [];
    for (let step = 0; step < 20 && received.length < 51; step++) {
      const seen = exchange(a, b, step);
      for (const action of seen.b) if (action.type === 'deliver') received.push(...action.payload);
      for (const action of seen.a) if (action.type === 'writeDone') done.push(action.token);
      b.consumed(received.length, step);
    }
    expect(received).toEqual([...payload, 200]);
    expect(done).toEqual([7, 8]);
  });

  it('a peer that sends past its credit is reset (overrun)', () => {
    const { b } = pair();
    b.receive({ type: 'data', seq: 0, payload: bytes(17) }, 0);
    expect(b.takeActions()).toEqual([
      { type: 'send', frame: { type: 'rst', reason: 'overrun: peer sent past its credit (17 > 16)' } },
      { type: 'reset', reason: 'overrun', detail: 'peer sent past its credit (17 > 16)', byPeer: false },
    ]);
    expect(b.state).toBe('reset');
  });

  it('a lost or repeated WINDOW changes nothing: limits are absolute', () => {
    const { a } = pair();
    a.write(bytes(32), 1, 0);
    a.takeActions();
    a.receive({ type: 'window', limit: 24 }, 0);
    a.receive({ type: 'window', limit: 20 }, 0);
    a.receive({ type: 'window', limit: 24 }, 0);
    expect(frames(a.takeActions()).map((f) => f.type === 'data' && f.payload.byteLength)).toEqual([8]);
  });
});

describe('stream core: loss', () => {
  it('a missing DATA frame is a gap: the stream resets and the peer is told', () => {
    const { a, b } = pair();
    a.write(bytes(16), 1, 0);
    const [, second] = frames(a.takeActions());
    b.receive(second!, 0);
    const actions = b.takeActions();
    expect(kinds(actions)).toEqual(['send rst', 'reset']);
    expect(actions[1]).toMatchObject({ reason: 'gap', detail: 'expected frame 0, got 1' });
    a.receive(frames(actions)[0]!, 0);
    expect(a.takeActions()).toEqual([{ type: 'reset', reason: 'remote', detail: 'gap: expected frame 0, got 1', byPeer: true }]);
    expect([a.state, b.state]).toEqual(['reset', 'reset']);
  });

  it('a FIN whose DATA was lost is a gap too (a lost tail is never taken for the end)', () => {
    const { a, b } = pair();
    a.write(bytes(4), 1, 0);
    a.finish(0);
    const sent = frames(a.takeActions());
    expect(sent.map((f) => f.type)).toEqual(['data', 'fin']);
    b.receive(sent[1]!, 0);
    expect(b.takeActions().at(-1)).toMatchObject({ type: 'reset', reason: 'gap' });
  });
});

describe('stream core: half-close and reset', () => {
  it('each side finishes on its own; the stream closes once both FINs crossed', () => {
    const { a, b } = pair();
    a.write(bytes(4), 1, 0);
    a.finish(0);
    let seen = exchange(a, b, 0);
    expect(kinds(seen.a)).toEqual(['send data', 'writeDone', 'send fin', 'finSent']);
    expect(kinds(seen.b)).toEqual(['deliver', 'finReceived']);
    // b still writes after a's FIN.
    b.write(bytes(3), 2, 1);
    b.finish(1);
    seen = exchange(a, b, 1);
    expect(kinds(seen.b)).toEqual(['send data', 'writeDone', 'send fin', 'finSent', 'closed']);
    expect(kinds(seen.a)).toEqual(['deliver', 'finReceived', 'closed']);
    expect([a.state, b.state]).toEqual(['closed', 'closed']);
  });

  it('FIN waits behind data that waits for credit', () => {
    const { a, b } = pair();
    a.write(bytes(20), 1, 0);
    a.finish(0);
    expect(kinds(a.takeActions())).toEqual(['send data', 'send data']);
    b.receive({ type: 'window', limit: 0 }, 0);
    a.receive({ type: 'window', limit: 32 }, 0);
    expect(kinds(a.takeActions())).toEqual(['send data', 'writeDone', 'send fin', 'finSent']);
  });

  it('a local reset drops queued writes, sends RST once, and ignores later input', () => {
    const { a } = pair();
    a.write(bytes(40), 1, 0);
    a.takeActions();
    a.reset('cancelled', 'destroyed', 0);
    expect(kinds(a.takeActions())).toEqual(['send rst', 'reset']);
    expect(a.unsentBytes()).toBe(0);
    a.receive({ type: 'window', limit: 100 }, 0);
    a.reset('cancelled', 'again', 0);
    a.tick(10_000);
    expect(a.takeActions()).toEqual([]);
    expect(a.nextDeadlineMs()).toBeNull();
  });
});

describe('stream core: liveness', () => {
  it('an idle side sends a WINDOW every keepalive interval, and anything heard keeps the peer alive', () => {
    const { a } = pair();
    expect(a.nextDeadlineMs()).toBe(100);
    a.tick(100);
    expect(frames(a.takeActions())).toEqual([{ type: 'window', limit: 16 }]);
    a.receive({ type: 'window', limit: 16 }, 250);
    a.tick(299); // a keepalive again (last one sent at 100)
    a.tick(300);
    expect(a.state).toBe('open');
    expect(a.nextDeadlineMs()).toBe(399);
  });

  it('nothing heard for the peer timeout resets the stream', () => {
    const { a } = pair();
    for (const now of [100, 200]) a.tick(now);
    a.takeActions();
    a.tick(300);
    expect(a.takeActions().at(-1)).toEqual({ type: 'reset', reason: 'peerTimeout', detail: 'nothing heard from the peer for 300 ms', byPeer: false });
  });
});

describe('stream core: datagrams', () => {
  it('keeps datagram boundaries and sends a datagram only whole, when its size fits the credit', () => {
    const t: StreamTuning = { windowBytes: 20, chunkBytesMax: 16, keepaliveIntervalMs: 100, peerTimeoutMs: 300 };
    const { a, b } = pair('datagram', t);
    a.write(bytes(12, 1), 1, 0);
    a.write(bytes(12, 2), 2, 0);
    a.write(new Uint8Array(0), 3, 0);
    const first = frames(a.takeActions());
    expect(first.map((f) => f.type === 'data' && f.payload.byteLength)).toEqual([12]);
    b.receive(first[0]!, 0);
    expect(b.takeActions().map((action) => action.type === 'deliver' && [...action.payload])).toEqual([Array(12).fill(1)]);
    b.consumed(12, 0);
    const window = frames(b.takeActions());
    expect(window).toEqual([{ type: 'window', limit: 32 }]);
    a.receive(window[0]!, 0);
    const sent = frames(a.takeActions());
    expect(sent.map((f) => f.type === 'data' && f.payload.byteLength)).toEqual([12, 0]);
    for (const f of sent) b.receive(f, 0);
    expect(b.takeActions().map((action) => action.type === 'deliver' && [...action.payload])).toEqual([Array(12).fill(2), []]);
  });
});
