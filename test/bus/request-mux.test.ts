/**
 * NatsBus's request table (bus/request-mux.ts) on its own, with a recording publish and fake
 * timers: replies find their request by token whatever their order, a late reply after the
 * timeout is ignored, the server's "no responders" notice and a publish refusal fail the right
 * request with the bus's typed errors, closing fails what waits, and the in-flight bound refuses
 * the newest request.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BusClosedError, BusTimeoutError, NoRespondersError, QueueOverflowError } from '../../bus/index.js';
import { RequestMux, requestMuxLimits } from '../../bus/request-mux.js';

function setup() {
  const sent: { subject: string; reply: string }[] = [];
  const mux = new RequestMux('_INBOX.t', (subject, _data, reply) => void sent.push({ subject, reply }));
  const tokenOf = (index: number): string => (sent[index]?.reply ?? '').slice('_INBOX.t.'.length);
  return { mux, sent, tokenOf };
}
const bytes = (n: number): Uint8Array => new Uint8Array([n]);
const outcome = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('RequestMux', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('matches replies to requests by token, in any order, and ignores a reply nobody waits for', async () => {
    const { mux, sent, tokenOf } = setup();
    const first = mux.request('a', bytes(1), 1_000);
    const second = mux.request('b', bytes(2), 1_000);
    expect(sent.map((s) => s.subject)).toEqual(['a', 'b']);
    expect(new Set(sent.map((s) => s.reply)).size).toBe(2);
    mux.onReply(tokenOf(1), bytes(20));
    mux.onReply(tokenOf(0), bytes(10));
    mux.onReply(tokenOf(0), bytes(11));
    mux.onReply('unknown', bytes(0));
    await expect(first).resolves.toEqual(bytes(10));
    await expect(second).resolves.toEqual(bytes(20));
    expect(mux.inFlight()).toBe(0);
  });

  it('fails with BusTimeoutError after the timeout and ignores the late reply', async () => {
    const { mux, tokenOf } = setup();
    const pending = outcome(mux.request('slow', bytes(1), 500));
    vi.advanceTimersByTime(499);
    expect(mux.inFlight()).toBe(1);
    vi.advanceTimersByTime(1);
    const result = await pending;
    expect(result).toMatchObject({ error: expect.any(BusTimeoutError) });
    expect((result as { error: BusTimeoutError }).error.subject).toBe('slow');
    mux.onReply(tokenOf(0), bytes(1));
    expect(mux.inFlight()).toBe(0);
  });

  it('turns the no-responders notice into NoRespondersError naming the request subject', async () => {
    const { mux, tokenOf } = setup();
    const pending = outcome(mux.request('nobody', bytes(1), 1_000));
    mux.onReply(tokenOf(0), null);
    const result = await pending;
    expect((result as { error: NoRespondersError }).error).toBeInstanceOf(NoRespondersError);
    expect((result as { error: NoRespondersError }).error.subject).toBe('nobody');
  });

  it('fails the oldest request to a refused subject only, and everything on failAll', async () => {
    const { mux } = setup();
    const refusedFirst = outcome(mux.request('denied', bytes(1), 1_000));
    const refusedSecond = outcome(mux.request('denied', bytes(2), 1_000));
    const other = outcome(mux.request('allowed', bytes(3), 1_000));
    const refusal = new Error('refused');
    mux.onPublishRefused('denied', refusal);
    expect(await refusedFirst).toEqual({ error: refusal });
    expect(mux.inFlight()).toBe(2);
    mux.failAll();
    expect((await refusedSecond as { error: unknown }).error).toBeInstanceOf(BusClosedError);
    expect((await other as { error: unknown }).error).toBeInstanceOf(BusClosedError);
  });

  it('rejects a request whose publish throws, and leaves nothing waiting', async () => {
    const mux = new RequestMux('_INBOX.t', () => {
      throw new Error('too large');
    });
    await expect(mux.request('x', bytes(1), 1_000)).rejects.toThrow('too large');
    expect(mux.inFlight()).toBe(0);
  });

  it('refuses the newest request beyond requestsInFlightMax with QueueOverflowError', async () => {
    const { mux } = setup();
    for (let i = 0; i < requestMuxLimits.requestsInFlightMax; i++) void mux.request('s', bytes(0), 60_000).catch(() => undefined);
    await expect(mux.request('s', bytes(0), 60_000)).rejects.toBeInstanceOf(QueueOverflowError);
    mux.failAll();
  });
});
