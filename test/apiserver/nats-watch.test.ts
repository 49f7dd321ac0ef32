/**
 * API watch streams over NATS without NATS: the front's relay (WatchStreams) and the client
 * (watchApiOverNats) on the simulated network and clock. It proves that lines become numbered
 * frames in order, that a stream producing faster than it publishes ends with one `overflow`
 * frame, that a front holds at most streamsMax streams, that an unrenewed stream ends at its lease
 * and a renewed one does not, that the client ends with `gap` on a missing frame and cancels the
 * stream, and that close() reaches the front.
 * The HTTPS side is a fake WatchSource; the real pipeline is in nats-watch.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, call, decode, encode, serve, subjects } from '../../bus/index.js';
import {
  WatchGapError, checkFrameSeq, natsWatchLimits,
  type ApiNatsWatchRequest, type ApiWatchEndReason, type ApiWatchEvent, type ApiWatchFrame,
} from '../../actors/apiserver/nats-watch-protocol.js';
import { WatchStreams, type WatchSource } from '../../actors/apiserver/nats-watch-front.js';
import { watchApiOverNats } from '../../actors/apiserver/nats-watch-client.js';
import { simHarness } from '../bus/sim-harness.js';

const cluster = 'c1';
const names = subjects(cluster);

function setup(options: { manualDefer?: boolean; leaseMs?: number } = {}) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(7) });
  const deferred: (() => void)[] = [];
  const frontBus = network.connect('m1');
  const streams = new WatchStreams({
    bus: frontBus, cluster, self: 'm1', clock, random: new Prng(8), leaseMs: options.leaseMs ?? 1_000,
    ...(options.manualDefer === true ? { defer: (fn: () => void) => void deferred.push(fn) } : {}),
  });
  return { clock, network, frontBus, streams, deferred, client: network.connect('client'), ...simHarness(clock) };
}

/** A WatchSource the test drives: `sink` pushes lines, `aborted` tells whether the front stopped it. */
function fakeSource() {
  const state: { sink: Parameters<WatchSource['start']>[0] | null; aborted: boolean } = { sink: null, aborted: false };
  const source: WatchSource = {
    start: (sink) => { state.sink = sink; },
    abort: () => { state.aborted = true; },
  };
  return { source, state };
}

function collect(bus: ReturnType<SimNetwork['connect']>, inbox: string): ApiWatchFrame[] {
  const frames: ApiWatchFrame[] = [];
  bus.subscribe(inbox, (message) => frames.push(decode<ApiWatchFrame>(message.data)), { pendingMax: 10_000 });
  return frames;
}

const line = (type: string, name: string) => `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

describe('API watch over NATS: the front relay', () => {
  it('relays lines split across chunks as numbered frames, then one end frame', async () => {
    const { streams, client, waitFor } = setup();
    const inbox = names.inbox('t', 'relay');
    const frames = collect(client, inbox);
    const { source, state } = fakeSource();
    streams.reserve();
    const ref = streams.open(inbox, source);
    const added = line('ADDED', 'a');
    state.sink?.data(added.slice(0, 10));
    state.sink?.data(added.slice(10) + line('MODIFIED', 'a').slice(0, 5));
    state.sink?.data(line('MODIFIED', 'a').slice(5) + line('DELETED', 'a'));
    state.sink?.end();
    await waitFor(() => frames.length === 4, 1_000);
    expect(frames.map((f) => [f.seq, f.kind === 'event' ? f.event.type : f.reason])).toEqual([[1, 'ADDED'], [2, 'MODIFIED'], [3, 'DELETED'], [4, 'ended']]);
    expect(frames.every((f) => f.streamId === ref.streamId)).toBe(true);
    expect(streams.activeCount()).toBe(0);
  });

  it('ends a stream with overflow when more frames queue than framesBufferedMax, dropping the queued ones', async () => {
    const { streams, client, deferred, waitFor } = setup({ manualDefer: true });
    const inbox = names.inbox('t', 'overflow');
    const frames = collect(client, inbox);
    const { source, state } = fakeSource();
    streams.reserve();
    streams.open(inbox, source);
    // The stream gets no turn to publish (defer is held): the bound fills, then one line more ends it.
    state.sink?.data(line('ADDED', 'x').repeat(natsWatchLimits.framesBufferedMax));
    expect(state.aborted).toBe(false);
    state.sink?.data(line('MODIFIED', 'x'));
    expect(state.aborted).toBe(true);
    deferred.splice(0).forEach((fn) => fn());
    await waitFor(() => frames.length === 1, 1_000);
    expect(frames).toEqual([{ streamId: expect.any(String), seq: 1, kind: 'end', reason: 'overflow' }]);
    expect(streams.activeCount()).toBe(0);
  });

  it('holds at most streamsMax streams, opening ones included (the front answers 429 beyond)', () => {
    const { streams } = setup();
    for (let i = 0; i < natsWatchLimits.streamsMax; i++) expect(streams.reserve()).toBe(true);
    expect(streams.reserve()).toBe(false);
    streams.release();
    expect(streams.reserve()).toBe(true);
  });

  it('ends a stream at its lease unless renewed', async () => {
    const { streams, client, clock, waitFor, settle } = setup({ leaseMs: 300 });
    const renewed = fakeSource();
    const abandoned = fakeSource();
    const keptFrames = collect(client, names.inbox('t', 'kept'));
    const lostFrames = collect(client, names.inbox('t', 'lost'));
    streams.reserve();
    streams.reserve();
    const kept = streams.open(names.inbox('t', 'kept'), renewed.source);
    streams.open(names.inbox('t', 'lost'), abandoned.source);
    // Renew one of them every 100 simulated ms for more than three leases.
    for (let next = clock.now(); next < 1_000; next += 100) {
      await waitFor(() => clock.now() >= next, 200);
      const reply = await settle(call<{ unknown: string[] }>(client, names.apiStream('m1'), { type: 'renew', streamIds: [kept.streamId] }, { timeoutMs: 100 }), 200);
      expect(reply.unknown).toEqual([]);
    }
    await waitFor(() => lostFrames.length === 1, 100);
    expect(lostFrames[0]).toMatchObject({ seq: 1, kind: 'end', reason: 'leaseExpired' });
    expect(abandoned.state.aborted).toBe(true);
    expect(renewed.state.aborted).toBe(false);
    expect(keptFrames).toEqual([]);
    expect(streams.activeCount()).toBe(1);
    const unknown = await settle(call<{ unknown: string[] }>(client, names.apiStream('m1'), { type: 'renew', streamIds: ['nope'] }, { timeoutMs: 100 }), 200);
    expect(unknown.unknown).toEqual(['nope']);
  });
});

describe('API watch over NATS: the client', () => {
  /** A front on the simulated network that opens a stream per watch with `source` and remembers where each went. */
  function fakeFront(env: ReturnType<typeof setup>, source: WatchSource, status = 200) {
    const opened: { inbox: string; streamId: string }[] = [];
    serve(env.frontBus, names.api(), (raw) => {
      const request = raw as ApiNatsWatchRequest;
      if (status !== 200) return { status, headers: {}, body: encode({ kind: 'Status', code: status }) };
      env.streams.reserve();
      const stream = env.streams.open(request.inbox, source);
      opened.push({ inbox: request.inbox, streamId: stream.streamId });
      return { status, headers: { 'content-type': 'application/json' }, body: new Uint8Array(0), stream };
    }, { concurrencyMax: 1, pendingMax: 8, queue: 'api' });
    return opened;
  }

  function handlers() {
    const events: ApiWatchEvent[] = [];
    const ends: { reason: ApiWatchEndReason; error?: unknown }[] = [];
    return { events, ends, handlers: { onEvent: (event: ApiWatchEvent) => events.push(event), onEnd: (end: { reason: ApiWatchEndReason; error?: unknown }) => ends.push(end) } };
  }

  it('delivers events in order, and close() ends the stream on the front', async () => {
    const env = setup();
    const { source, state } = fakeSource();
    fakeFront(env, source);
    const seen = handlers();
    const watch = await env.settle(watchApiOverNats(env.client, cluster, { method: 'GET', path: '/api/v1/configmaps?watch=1', headers: {} }, seen.handlers, {
      clock: env.clock, random: new Prng(3), renewEveryMs: 100,
    }), 1_000);
    expect(watch.status).toBe(200);
    state.sink?.data(line('ADDED', 'a') + line('MODIFIED', 'a'));
    await env.waitFor(() => seen.events.length === 2, 1_000);
    expect(seen.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    await env.waitFor(() => env.clock.now() > 3_000, 5_000); // many leases of 1 s pass: renewals keep it
    expect(env.streams.activeCount()).toBe(1);
    watch.close();
    await env.waitFor(() => env.streams.activeCount() === 0, 1_000);
    expect(state.aborted).toBe(true);
    expect(seen.ends).toEqual([]);
  });

  it('ends with gap when a frame is missing, and cancels the stream on the front', async () => {
    const env = setup();
    const { source } = fakeSource();
    const opened = fakeFront(env, source);
    const seen = handlers();
    await env.settle(watchApiOverNats(env.client, cluster, { method: 'GET', path: '/api/v1/configmaps?watch=1', headers: {} }, seen.handlers, {
      clock: env.clock, random: new Prng(4),
    }), 1_000);
    const { inbox, streamId } = opened[0] as { inbox: string; streamId: string };
    // Frames published past the relay, as if NATS had dropped seq 3.
    for (const seq of [1, 2, 4]) {
      env.frontBus.publish(inbox, encode({ streamId, seq, kind: 'event', event: { type: 'ADDED', object: { seq } } }));
    }
    await env.waitFor(() => seen.ends.length === 1, 1_000);
    expect(seen.events.map((e) => (e.object as { seq: number }).seq)).toEqual([1, 2]);
    expect(seen.ends[0]?.reason).toBe('gap');
    expect(seen.ends[0]?.error).toBeInstanceOf(WatchGapError);
    expect(seen.ends[0]?.error).toMatchObject({ code: 'watchGap', expectedSeq: 3, receivedSeq: 4 });
    await env.waitFor(() => env.streams.activeCount() === 0, 1_000);
  });

  it('drops malformed frames on its inbox: only well-formed ones reach the handlers', async () => {
    const env = setup();
    const { source } = fakeSource();
    const opened = fakeFront(env, source);
    const seen = handlers();
    await env.settle(watchApiOverNats(env.client, cluster, { method: 'GET', path: '/api/v1/configmaps?watch=1', headers: {} }, seen.handlers, {
      clock: env.clock, random: new Prng(6),
    }), 1_000);
    const { inbox, streamId } = opened[0] as { inbox: string; streamId: string };
    for (const forged of [
      { streamId, seq: 1, kind: 'event', event: null }, { streamId, seq: 1, kind: 'event', event: { object: {} } },
      { streamId, seq: '1', kind: 'event', event: { type: 'ADDED' } }, { streamId, seq: 1, kind: 'other' }, { streamId, seq: 1, kind: 'end' }, null, 7,
    ]) env.frontBus.publish(inbox, encode(forged));
    env.frontBus.publish(inbox, encode({ streamId, seq: 1, kind: 'event', event: { type: 'ADDED', object: { ok: true } } }));
    await env.waitFor(() => seen.events.length === 1, 1_000);
    expect(seen.events).toEqual([{ type: 'ADDED', object: { ok: true } }]);
    expect(seen.ends).toEqual([]);
  });

  it('answers a refused watch with its status and opens no stream', async () => {
    const env = setup();
    fakeFront(env, fakeSource().source, 401);
    const seen = handlers();
    const watch = await env.settle(watchApiOverNats(env.client, cluster, { method: 'GET', path: '/api/v1/configmaps?watch=1', headers: {} }, seen.handlers, {
      clock: env.clock, random: new Prng(5),
    }), 1_000);
    expect(watch.status).toBe(401);
    expect(decode(watch.body as Uint8Array)).toEqual({ kind: 'Status', code: 401 });
    expect(env.streams.activeCount()).toBe(0);
  });

  it('checks seq: next is ok, repeated is stale, skipped is a gap', () => {
    expect(checkFrameSeq(3, { seq: 3 })).toBe('ok');
    expect(checkFrameSeq(3, { seq: 2 })).toBe('stale');
    expect(checkFrameSeq(3, { seq: 5 })).toBe('gap');
  });
});
