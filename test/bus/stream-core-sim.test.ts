/**
 * The stream protocol under a seeded random schedule (TigerBeetle's VOPR idea, small): two cores,
 * a writer writing random amounts, a reader reading random amounts at random times, a link that
 * delays frames (in order, as NATS keeps one publisher's order) and, in the faulty runs, drops some.
 * After every step: the receiver never buffers more than one window, and what it delivered is
 * exactly a prefix of what was written. Fault-free runs end with everything delivered and the
 * stream closed; faulty runs end either so or with a reset naming the gap (never with silently
 * missing bytes). A failing seed prints itself: rerun with SEED=<n>.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/index.js';
import { StreamCore, type Frame, type StreamTuning } from '../../bus/stream/index.js';

const tuning: StreamTuning = { windowBytes: 4096, chunkBytesMax: 1000, keepaliveIntervalMs: 50, peerTimeoutMs: 200 };

function run(seed: number, dropRate: number): { outcome: 'closed' | 'reset'; reason?: string; delivered: number; written: number } {
  const random = new Prng(seed);
  const a = new StreamCore({ mode: 'bytes', tuning, nowMs: 0, sendLimit: tuning.windowBytes });
  const b = new StreamCore({ mode: 'bytes', tuning, nowMs: 0, sendLimit: tuning.windowBytes });
  const links = { toB: [] as { at: number; frame: Frame }[], toA: [] as { at: number; frame: Frame }[] };
  const written: number[] = [];
  const delivered: number[] = [];
  let consumed = 0;
  let resetReason: string | undefined;
  const total = 20_000 + random.int(20_000);
  let writtenBytes = 0;
  for (let now = 0; now < 60_000; now++) {
    if (writtenBytes < total && random.chance(0.3)) {
      const size = Math.min(total - writtenBytes, 1 + random.int(3000));
      const bytes = Uint8Array.from({ length: size }, (_, i) => (writtenBytes + i) % 251);
      written.push(...bytes);
      writtenBytes += size;
      a.write(bytes, now, now);
      if (writtenBytes === total) a.finish(now);
    }
    if (random.chance(0.2)) b.consumed(consumed = Math.min(delivered.length, consumed + random.int(2000)), now);
    for (const [core, link] of [[a, links.toB], [b, links.toA]] as const) {
      for (const action of core.takeActions()) {
        if (action.type === 'send' && !random.chance(dropRate)) link.push({ at: Math.max(now + 1 + random.int(5), link.at(-1)?.at ?? 0), frame: action.frame });
        if (action.type === 'deliver') delivered.push(...action.payload);
        if (action.type === 'reset' && resetReason === undefined) resetReason = action.reason;
      }
    }
    for (const [core, link] of [[b, links.toB], [a, links.toA]] as const) {
      while (link.length > 0 && link[0]!.at <= now) core.receive(link.shift()!.frame, now);
      core.tick(now);
    }
    expect(b.bufferedBytes(), `seed ${seed}`).toBeLessThanOrEqual(tuning.windowBytes);
    if (a.state === 'reset' || b.state === 'reset') return { outcome: 'reset', reason: resetReason ?? 'remote', delivered: delivered.length, written: writtenBytes };
    if (b.state === 'open' && delivered.length > 0 && random.chance(0.01)) {
      // Prefix check now and then (a full compare every step would be quadratic).
      expect(delivered.every((byte, i) => byte === written[i]), `seed ${seed}`).toBe(true);
    }
    if (writtenBytes === total && delivered.length === total && consumed < total) b.consumed(consumed = total, now);
    if (delivered.length === total && writtenBytes === total && b.state === 'open') b.finish(now);
    if (a.state === 'closed' && b.state === 'closed') break;
  }
  expect(delivered.every((byte, i) => byte === written[i]), `seed ${seed}`).toBe(true);
  return { outcome: a.state === 'closed' && b.state === 'closed' ? 'closed' : 'reset', ...(resetReason !== undefined ? { reason: resetReason } : {}), delivered: delivered.length, written: writtenBytes };
}

const seeds = process.env['SEED'] !== undefined ? [Number(process.env['SEED'])] : Array.from({ length: 30 }, (_, i) => i + 1);

describe('stream core under a random schedule', () => {
  it('without loss: everything arrives in order, the window is never exceeded, the stream closes', () => {
    for (const seed of seeds) {
      const result = run(seed, 0);
      expect(result, `seed ${seed}`).toMatchObject({ outcome: 'closed', delivered: result.written });
    }
  });

  it('with loss: either everything arrives or the stream resets on the gap; never silently short', () => {
    const outcomes = new Set<string>();
    for (const seed of seeds) {
      const result = run(seed, 0.02);
      outcomes.add(result.outcome);
      if (result.outcome === 'closed') expect(result.delivered, `seed ${seed}`).toBe(result.written);
      else expect(['gap', 'remote', 'peerTimeout'], `seed ${seed}`).toContain(result.reason);
    }
    expect(outcomes.has('reset')).toBe(true);
  });
});
