/**
 * NatsBus against a real nats-server started by NatsServerProcess: the shared Bus conformance
 * suite, plus what only a real server shows: bounded subscriptions dropping and counting what
 * they cannot hold, max_payload from the generated config, typed rpc errors over the wire, and
 * close() flushing what was published.
 *
 * Without nats-server the suite is skipped locally and fails in CI (CI=true), where it must run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BusConnectError, MessageTooLargeError, createJsonLogger, NatsBus, NatsServerProcess, call, decode, encode, findNatsServer, serve, type Bus,
} from '../../bus/index.js';
import { describeBusConformance, type BusHarness } from './bus-conformance.js';
import { NotLeaderError, storeErrorFactories } from '../../store/errors.js';

const installed = findNatsServer() !== null;
if (!installed && process.env.CI === 'true') {
  throw new Error('nats-server is required in CI: sudo apt-get install -y nats-server');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(!installed)('NatsBus on a real nats-server', () => {
  let server: NatsServerProcess;
  const open: Bus[] = [];
  const connect = async (name: string): Promise<Bus> => {
    const bus = await NatsBus.connect({ servers: [server.url], name, connectTimeoutMs: 5_000, reconnect: false });
    open.push(bus);
    return bus;
  };

  beforeAll(async () => {
    server = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024 });
  });

  afterAll(async () => {
    for (const bus of open) await bus.close();
    await server?.stop();
  });

  describeBusConformance('NatsBus', async (): Promise<BusHarness> => {
    const buses: Bus[] = [];
    return {
      connect: async (name) => {
        const bus = await connect(name);
        buses.push(bus);
        return bus;
      },
      // A subscription reaches the server with the next flush; a round trip makes sure of it.
      waitFor: async (condition, timeoutMs) => {
        for (const bus of buses) await (bus as NatsBus).flush();
        await waitFor(condition, timeoutMs);
      },
      settle: (promise) => promise,
      close: async () => {
        for (const bus of buses) await bus.close();
      },
    };
  });

  it('drops and counts messages beyond pendingMax while the handler is busy', async () => {
    const a = await connect('publisher');
    const b = (await connect('slow')) as NatsBus;
    const overflows: number[] = [];
    let handled = 0;
    // The first message blocks the event loop for a while, so the rest of the burst reaches the
    // socket meanwhile and is parsed in one go, faster than the queue drains.
    const subscription = b.subscribe('burst', () => {
      if (handled++ === 0) {
        const until = performance.now() + 100;
        while (performance.now() < until) { /* busy: a slow handler */ }
      }
    }, { pendingMax: 10, onOverflow: (total) => overflows.push(total) });
    await b.flush();
    for (let i = 0; i < 100; i++) a.publish('burst', encode(i));
    await (a as NatsBus).flush();
    await waitFor(() => handled + subscription.droppedCount() === 100, 5_000);
    expect(subscription.droppedCount()).toBeGreaterThan(0);
    expect(handled).toBeGreaterThanOrEqual(10);
    expect(overflows.at(-1)).toBe(subscription.droppedCount());
  });

  it('applies max_payload from the generated config', async () => {
    const a = (await connect('big')) as NatsBus;
    expect(a.maxPayloadBytes()).toBe(2 * 1024 * 1024);
    expect(() => a.publish('big', new Uint8Array(3 * 1024 * 1024))).toThrow(MessageTooLargeError);
    const b = await connect('big-reader');
    let size = 0;
    b.subscribe('big.ok', (m) => { size = m.data.byteLength; }, { pendingMax: 2 });
    await (b as NatsBus).flush();
    a.publish('big.ok', new Uint8Array(1536 * 1024));
    await waitFor(() => size > 0, 5_000);
    expect(size).toBe(1536 * 1024);
  });

  it('carries typed errors through rpc', async () => {
    const client = await connect('rpc-client');
    const member = await connect('rpc-member');
    const server = serve(member, 'kubus.t.store.s1', (request) => {
      if ((request as { fail?: boolean }).fail) throw new NotLeaderError('s2');
      return { echoed: request };
    }, { pendingMax: 10, concurrencyMax: 2 });
    await (member as NatsBus).flush();
    await expect(call(client, 'kubus.t.store.s1', { n: 1 }, { timeoutMs: 2_000 })).resolves.toEqual({ echoed: { n: 1 } });
    const error = await call(client, 'kubus.t.store.s1', { fail: true }, { timeoutMs: 2_000, errorFactories: storeErrorFactories }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leaderHint).toBe('s2');
    server.stop();
  });

  it('flushes what was published when closing', async () => {
    const reader = await connect('reader');
    const received: number[] = [];
    reader.subscribe('flush', (m) => received.push(decode<number>(m.data)), { pendingMax: 1_000 });
    await (reader as NatsBus).flush();
    const writer = await NatsBus.connect({ servers: [server.url], name: 'writer', connectTimeoutMs: 5_000, reconnect: false });
    for (let i = 0; i < 500; i++) writer.publish('flush', encode(i));
    await writer.close();
    await waitFor(() => received.length === 500, 5_000);
    expect(received).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('reconnects after the server restarts, and logs the disconnect', async () => {
    const own = await NatsServerProcess.start({ maxPayloadBytes: 1024 * 1024 });
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'info', write: (line) => lines.push(line) });
    const bus = await NatsBus.connect({ servers: [own.url], name: 'survivor', connectTimeoutMs: 5_000, reconnect: true, logger });
    const received: string[] = [];
    bus.subscribe('again', (m) => received.push(new TextDecoder().decode(m.data)), { pendingMax: 10 });
    await bus.flush();
    await own.stop();
    await waitFor(() => lines.some((line) => line.includes('"disconnect"')), 5_000);
    const restarted = await NatsServerProcess.start({ maxPayloadBytes: 1024 * 1024, port: own.port });
    try {
      await waitFor(() => lines.some((line) => line.includes('"reconnect"')), 15_000);
      bus.publish('again', new TextEncoder().encode('hello'));
      await waitFor(() => received.length === 1, 5_000);
      expect(received).toEqual(['hello']);
    } finally {
      await bus.close();
      await restarted.stop();
    }
  });

  it('fails to connect to a server that is not there with BusConnectError', async () => {
    const stopped = await NatsServerProcess.start({ maxPayloadBytes: 1024 * 1024 });
    const url = stopped.url;
    await stopped.stop();
    await expect(NatsBus.connect({ servers: [url], name: 'nobody', connectTimeoutMs: 1_000, reconnect: false })).rejects.toBeInstanceOf(BusConnectError);
  });
});
