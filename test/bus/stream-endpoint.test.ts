/**
 * Bus streams end to end on the simulated network and clock (bus/stream/endpoint.ts and its
 * Duplex): an open accepted by a listener carries bytes both ways intact and half-closes; a refusal
 * comes back with its typed reason, an open nobody hears fails as such; a reader that does not read
 * holds at most one window while the writer is stopped (writes pending, `write()` false); a lost
 * frame resets the stream; a peer that vanishes ends the stream within the peer timeout, one that
 * closes its endpoint ends it at once; datagrams keep their boundaries.
 */
import { describe, expect, it } from 'vitest';
import type { Duplex } from 'node:stream';
import { Prng, SimNetwork, SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { StreamEndpoint, StreamOpenError, StreamRefusedError, StreamResetError, type AcceptDecision, type BusStream, type StreamTuning } from '../../bus/stream/index.js';
import { simHarness } from './sim-harness.js';

const tuning: StreamTuning = { windowBytes: 64 * 1024, chunkBytesMax: 16 * 1024, keepaliveIntervalMs: 1_000, peerTimeoutMs: 3_000 };
const datagramTuning: StreamTuning = { ...tuning, windowBytes: 128 * 1024, chunkBytesMax: 65_507 };
const logger = createJsonLogger({ level: 'error' });

function world(t: StreamTuning = tuning) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(11) });
  const server = new StreamEndpoint({ bus: network.connect('b'), clock, logger, dataSubject: 'kubus.t.node.b.tunnel', tuning: t });
  const client = new StreamEndpoint({ bus: network.connect('a'), clock, logger, dataSubject: 'kubus.t.node.a.tunnel.dialed', tuning: t });
  return { clock, network, server, client, sim: simHarness(clock) };
}

/** Reads everything until end (or error) into one buffer. */
function collect(stream: Duplex): { bytes: () => Buffer; ended: () => boolean; error: () => Error | null } {
  const chunks: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => { ended = true; });
  stream.on('error', (e) => { error = e; });
  return { bytes: () => Buffer.concat(chunks), ended: () => ended, error: () => error };
}

const echo = async (): Promise<AcceptDecision> => ({ accept: true, onStream: (stream) => { stream.on('error', () => undefined); stream.pipe(stream); } });

describe('bus streams on the simulated network', () => {
  it('carries bytes both ways intact and half-closes; both ends forget the stream', async () => {
    const { server, client, sim } = world();
    const headers: unknown[] = [];
    server.listen(async (open) => { headers.push(open.header); return echo(); });
    const stream = await sim.settle(client.open(server.subject, { mode: 'bytes', header: { target: 'x' } }), 1_000);
    expect(headers).toEqual([{ target: 'x' }]);
    const payload = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 7) % 251));
    const read = collect(stream);
    stream.end(payload);
    await sim.waitFor(() => read.ended(), 60_000);
    expect(read.bytes().equals(payload)).toBe(true);
    await sim.waitFor(() => client.streamCount() === 0 && server.streamCount() === 0, 1_000);
  });

  it('a refusal comes back with its reason; an open nobody hears fails as noResponders', async () => {
    const { server, client, sim } = world();
    server.listen(async () => ({ accept: false, reason: 'notAPod', message: '10.1.2.3 is not a pod of b' }));
    const refused = await sim.settle(client.open(server.subject, { mode: 'bytes', header: null }), 1_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StreamRefusedError);
    expect(refused).toMatchObject({ reason: 'notAPod', message: expect.stringContaining('10.1.2.3 is not a pod of b') });
    const nobody = await sim.settle(client.open('kubus.t.node.c.tunnel', { mode: 'bytes', header: null }), 20_000).catch((e: unknown) => e);
    expect(nobody).toBeInstanceOf(StreamOpenError);
    expect(nobody).toMatchObject({ reason: 'noResponders' });
    expect(client.streamCount()).toBe(0);
  });

  it('a reader that does not read holds at most one window; the writer stops instead of buffering', async () => {
    const { server, client, sim } = world();
    let far: BusStream | null = null;
    server.listen(async () => ({ accept: true, onStream: (stream) => { far = stream; } }));
    const stream = await sim.settle(client.open(server.subject, { mode: 'bytes', header: null }), 1_000);
    await sim.waitFor(() => far !== null, 1_000);
    const writer = far! as BusStream;
    let accepted = 0;
    const block = Buffer.alloc(16 * 1024, 1);
    for (let i = 0; i < 64; i++) if (writer.write(block)) accepted++;
    await sim.waitFor(() => stream.bufferedBytes() === tuning.windowBytes, 5_000);
    await sim.waitFor(() => false, 200).catch(() => undefined); // time passes; nothing more may arrive
    expect(stream.bufferedBytes()).toBe(tuning.windowBytes);
    expect(stream.readableLength).toBeLessThanOrEqual(tuning.windowBytes);
    expect(writer.unsentBytes()).toBeGreaterThan(0);
    expect(writer.writableNeedDrain).toBe(true);
    expect(accepted).toBeLessThan(64);
    // Reading resumes the writer: everything arrives.
    const read = collect(stream);
    writer.end();
    await sim.waitFor(() => read.ended(), 60_000);
    expect(read.bytes().length).toBe(64 * block.length);
  });

  it('a lost frame resets the stream (gap) on both ends', async () => {
    const { server, client, sim, network } = world();
    server.listen(echo);
    const stream = await sim.settle(client.open(server.subject, { mode: 'bytes', header: null }), 1_000);
    const read = collect(stream);
    network.setFaults({ dropRate: 0.2, duplicateRate: 0, delayMs: { min: 1, max: 1 } });
    for (let i = 0; i < 20; i++) stream.write(Buffer.alloc(16 * 1024, i));
    await sim.waitFor(() => read.error() !== null, 10_000);
    expect(read.error()).toBeInstanceOf(StreamResetError);
    expect(['gap', 'remote', 'peerTimeout']).toContain((read.error() as StreamResetError).reason);
    network.setFaults({ dropRate: 0, duplicateRate: 0, delayMs: { min: 1, max: 1 } });
    await sim.waitFor(() => client.streamCount() === 0 && server.streamCount() === 0, 10_000);
  });

  it('a peer that vanishes ends the stream within the peer timeout; a closing endpoint ends it at once', async () => {
    const { server, client, sim, network, clock } = world();
    server.listen(echo);
    const first = await sim.settle(client.open(server.subject, { mode: 'bytes', header: null }), 1_000);
    const second = await sim.settle(client.open(server.subject, { mode: 'bytes', header: null }), 1_000);
    const a = collect(first);
    const b = collect(second);
    // Closing the endpoint: its peers hear RST at once.
    const closedAt = clock.now();
    server.close();
    await sim.waitFor(() => a.error() !== null && b.error() !== null, 100);
    expect(a.error()).toMatchObject({ reason: 'remote' });
    expect(clock.now() - closedAt).toBeLessThan(100);
    // Vanishing without a word: the peer timeout.
    const other = new StreamEndpoint({ bus: network.connect('c'), clock, logger, dataSubject: 'kubus.t.node.c.tunnel', tuning });
    other.listen(echo);
    const third = await sim.settle(client.open(other.subject, { mode: 'bytes', header: null }), 1_000);
    const c = collect(third);
    const goneAt = clock.now();
    network.disconnect('c');
    await sim.waitFor(() => c.error() !== null, tuning.peerTimeoutMs + tuning.keepaliveIntervalMs);
    expect(c.error()).toMatchObject({ reason: 'peerTimeout' });
    expect(clock.now() - goneAt).toBeLessThanOrEqual(tuning.peerTimeoutMs);
  });

  it('datagram mode keeps each datagram whole and separate', async () => {
    const { server, client, sim } = world(datagramTuning);
    server.listen(echo);
    const stream = await sim.settle(client.open(server.subject, { mode: 'datagram', header: null }), 1_000);
    const received: number[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk.length));
    const sizes = [1, 0, 65_507, 512, 3];
    for (const size of sizes) stream.write(Buffer.alloc(size, 7));
    await sim.waitFor(() => received.length === sizes.length, 5_000);
    expect(received).toEqual(sizes);
    const tooBig = await new Promise<Error | null | undefined>((resolve) => {
      stream.once('error', resolve);
      stream.write(Buffer.alloc(65_508));
    });
    expect(tooBig).toBeInstanceOf(RangeError);
  });
});
