/**
 * NatsBus against a real nats-server started by NatsServerProcess: the shared Bus conformance
 * suite, plus what only a real server shows: bounded subscriptions dropping and counting what
 * they cannot hold, max_payload from the generated config, typed rpc errors over the wire, and
 * close() flushing what was published, sendPending putting a publish on the wire while the
 * publisher's thread is still blocked (checked in a child process), and the error boundary around every subscription handler
 * (a throwing or rejecting handler costs its message, not the process; an AssertionError still
 * stops the process, checked in a child process).
 *
 * The server runs in operator mode like every kubus bus; this suite's connections are a user
 * allowed on every subject, since the conformance suite uses subjects of its own.
 *
 * Without nats-server the suite is skipped locally and fails in CI (CI=true), where it must run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BusConnectError, MessageTooLargeError, createJsonLogger, NatsBus, NatsServerProcess, call, decode, encode, ensureNatsCredentials, findNatsServer, serve,
  type Bus, type NatsCredentials, type NatsUser,
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
  let credentialsDir = '';
  let credentials: NatsCredentials;
  let user: NatsUser;
  const open: Bus[] = [];
  const connect = async (name: string): Promise<Bus> => {
    const bus = await NatsBus.connect({ servers: [server.url], name, user, connectTimeoutMs: 5_000, reconnect: false });
    open.push(bus);
    return bus;
  };
  const startServer = async (options: { maxPayloadBytes: number; port?: number }) => NatsServerProcess.start({ ...options, auth: await credentials.serverConfig() });

  beforeAll(async () => {
    credentialsDir = mkdtempSync(join(tmpdir(), 'kubus-nats-bus-'));
    credentials = ensureNatsCredentials(credentialsDir);
    user = await credentials.mintUser('bus-tester', { permissions: { publish: ['>'], subscribe: ['>'] }, ttlMs: null, nowMs: Date.now(), restrictInbox: false });
    server = await startServer({ maxPayloadBytes: 2 * 1024 * 1024 });
  });

  afterAll(async () => {
    for (const bus of open) await bus.close();
    await server?.stop();
    rmSync(credentialsDir, { recursive: true, force: true });
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
    const writer = await NatsBus.connect({ servers: [server.url], name: 'writer', user, connectTimeoutMs: 5_000, reconnect: false });
    for (let i = 0; i < 500; i++) writer.publish('flush', encode(i));
    await writer.close();
    await waitFor(() => received.length === 500, 5_000);
    expect(received).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('sendPending puts a publish on the wire before the publishing task ends (a child blocked as in an fsync)', async () => {
    const fixture = fileURLToPath(new URL('./nats-send-pending-fixture.ts', import.meta.url));
    const release = join(credentialsDir, 'send-pending-release');
    const reader = await connect('pending-reader');
    const received: string[] = [];
    reader.subscribe('fixture.pending', (m) => {
      received.push(new TextDecoder().decode(m.data));
      writeFileSync(release, '');
    }, { pendingMax: 10 });
    await (reader as NatsBus).flush();
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, FIXTURE_URL: server.url, FIXTURE_JWT: user.jwt, FIXTURE_SEED: user.seed, FIXTURE_RELEASE: release }, stdio: 'ignore',
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(0);
    expect(received).toEqual(['sent while blocked']);
  }, 60_000);

  it('reconnects after the server restarts, and logs the disconnect', async () => {
    const own = await startServer({ maxPayloadBytes: 1024 * 1024 });
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'info', write: (line) => lines.push(line) });
    const bus = await NatsBus.connect({ servers: [own.url], name: 'survivor', user, connectTimeoutMs: 5_000, reconnect: true, logger });
    const received: string[] = [];
    bus.subscribe('again', (m) => received.push(new TextDecoder().decode(m.data)), { pendingMax: 10 });
    await bus.flush();
    await own.stop();
    await waitFor(() => lines.some((line) => line.includes('"disconnect"')), 5_000);
    const restarted = await startServer({ maxPayloadBytes: 1024 * 1024, port: own.port });
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

  it('a handler that throws or rejects costs its message, not the process: logged, and the next message is handled', async () => {
    const lines: string[] = [];
    const told: string[] = [];
    const logger = createJsonLogger({ level: 'info', write: (line) => lines.push(line) });
    const bus = await NatsBus.connect({ servers: [server.url], name: 'boundary', user, connectTimeoutMs: 5_000, reconnect: false, logger, onHandlerError: (_error, subject) => told.push(subject) });
    open.push(bus);
    const publisher = await connect('boundary-publisher');
    const handled: string[] = [];
    bus.subscribe('poison.sync', (m) => {
      const text = new TextDecoder().decode(m.data);
      if (text === 'bad') throw new TypeError('cannot read properties of null (reading chunk)');
      handled.push(text);
    }, { pendingMax: 10 });
    bus.subscribe('poison.async', async (m) => {
      const text = new TextDecoder().decode(m.data);
      await Promise.resolve();
      if (text === 'bad') throw new RangeError('async handler failed');
      handled.push(`async ${text}`);
    }, { pendingMax: 10 });
    await bus.flush();
    for (const [subject, text] of [['poison.sync', 'bad'], ['poison.sync', 'good'], ['poison.async', 'bad'], ['poison.async', 'good']] as const) {
      publisher.publish(subject, new TextEncoder().encode(text));
    }
    await (publisher as NatsBus).flush();
    await waitFor(() => handled.length === 2 && told.length === 2, 5_000);
    expect(handled.sort()).toEqual(['async good', 'good']);
    expect(told.sort()).toEqual(['poison.async', 'poison.sync']);
    const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string; subject: string; error: { name: string } });
    expect(logged.map((l) => [l.level, l.msg, l.subject, l.error.name]).sort()).toEqual([
      ['error', 'subscription handler failed; message dropped', 'poison.async', 'RangeError'],
      ['error', 'subscription handler failed; message dropped', 'poison.sync', 'TypeError'],
    ]);
  });

  it('an AssertionError in a handler still stops the process (fail-stop), a plain error does not', async () => {
    const fixture = fileURLToPath(new URL('./nats-handler-fixture.ts', import.meta.url));
    const run = async (kind: 'assertion' | 'error'): Promise<{ code: number | null; stderr: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
        env: { ...process.env, FIXTURE_URL: server.url, FIXTURE_JWT: user.jwt, FIXTURE_SEED: user.seed, FIXTURE_KIND: kind }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await waitFor(() => stdout.includes('subscribed'), 30_000);
      const publisher = await connect(`fixture-${kind}`);
      publisher.publish('fixture.poison', new TextEncoder().encode('poison'));
      publisher.publish('fixture.poison', new TextEncoder().encode('after'));
      await (publisher as NatsBus).flush();
      return { code: await exited, stderr };
    };
    const assertion = await run('assertion');
    expect(assertion.code).not.toBe(0);
    expect(assertion.stderr).toContain('AssertionError: invariant broken by the message');
    const plain = await run('error');
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('subscription handler failed; message dropped');
  }, 60_000);

  it('fails to connect to a server that is not there with BusConnectError', async () => {
    const stopped = await startServer({ maxPayloadBytes: 1024 * 1024 });
    const url = stopped.url;
    await stopped.stop();
    await expect(NatsBus.connect({ servers: [url], name: 'nobody', user, connectTimeoutMs: 1_000, reconnect: false })).rejects.toBeInstanceOf(BusConnectError);
  });
});
