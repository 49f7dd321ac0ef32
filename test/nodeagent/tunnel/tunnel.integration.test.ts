/**
 * The NATS tunnel between two agents on a real nats-server in operator mode, with agent users
 * minted as the API mints them (`NatsCredentials.mintAgent`): agent A dials pods of agent B, whose
 * runtime (a fake) reports one ready sandbox at 127.64.2.10, where a TCP echo server, a TCP "fire
 * hose" and a UDP echo server listen. Proves:
 * - 8 MiB through the tunnel and back arrive intact;
 * - a reader that does not read holds at most one window while the pod's writes stop (back-pressure
 *   from A's reader through NATS, B's agent and B's socket to the pod), and everything arrives once it
 *   reads, also after A half-closed and the pod closed (the tail held in the stream is not lost);
 * - an address that is not one of B's pods is refused (`notAPod`), a closed port of a pod too
 *   (`connectFailed`), a node nobody serves is unreachable;
 * - a control-plane component's bus user cannot open (NATS refuses its publish; B sees no open);
 * - B's tunnel stopping ends A's stream at once, and a B that vanishes (its NATS connection gone,
 *   no goodbye) ends it within the peer timeout;
 * - UDP datagrams round-trip whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, NatsServerProcess, SystemClock, createJsonLogger, ensureNatsCredentials, type NatsCredentials } from '../../../bus/index.js';
import { StreamResetError, type BusStream, type StreamTuning } from '../../../bus/stream/index.js';
import {
  TunnelRefusedError, TunnelUnreachableError, createTunnelDialer, startTunnelServer, type ClosableTunnelDialer, type TunnelServer, type TunnelTarget,
} from '../../../nodeagent/tunnel/index.js';
import type { PodSandboxStatus } from '../../../nodeagent/runtime/types.js';
import { requireComponent } from '../../support/components.js';
import { waitUntil } from '../../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const cluster = 'tunnel';
const podIp = '127.64.2.10';
const clock = new SystemClock();
const logger = createJsonLogger({ level: 'warn' });
/** Short liveness bounds for the vanishing-peer case (both ends use their own tuning for their own timeouts). */
const quick: StreamTuning = { windowBytes: 256 * 1024, chunkBytesMax: 64 * 1024, keepaliveIntervalMs: 200, peerTimeoutMs: 1_000 };

let dir = '';
let credentials: NatsCredentials;
let server: NatsServerProcess;
const buses: NatsBus[] = [];
const closers: (() => unknown)[] = [];
let tunnelB: TunnelServer;
let dialerA: ClosableTunnelDialer;
let echoPort = 0;
let hosePort = 0;
let udpPort = 0;
let hoseWritten = 0;
let sandboxListings = 0;

const sandboxes = (): PodSandboxStatus[] => [{ id: 'sb1', podUid: 'uid-1', state: 'ready', ip: podIp, createdAtMs: 0, labels: {} }];

async function agentBus(node: string): Promise<NatsBus> {
  const user = await credentials.mintAgent(cluster, node, { ttlMs: 10 * 60_000, nowMs: Date.now() });
  const bus = await NatsBus.connect({ servers: [server.url], name: `agent-${node}`, user, connectTimeoutMs: 5_000, reconnect: false, logger });
  buses.push(bus);
  return bus;
}

const ctx = (bus: NatsBus, nodeName: string) => ({ bus, cluster, nodeName, clock, logger });

function listen<T extends net.Server>(created: T): Promise<number> {
  return new Promise((resolve) => created.listen(0, podIp, () => resolve((created.address() as net.AddressInfo).port)));
}

function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const target = (port: number, overrides: Partial<TunnelTarget> = {}): TunnelTarget => ({ node: 'b', address: podIp, port, protocol: 'TCP', ...overrides });

beforeAll(async () => {
  if (!runs) return;
  dir = mkdtempSync(join(tmpdir(), 'kubus-tunnel-'));
  credentials = ensureNatsCredentials(dir);
  server = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024, auth: await credentials.serverConfig() });
  // The pod of B: an echo server, a fire hose (writes 32 MiB, honouring back-pressure), a UDP echo.
  const echo = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined); // a tunnel reset reaches the pod as a TCP RST
    socket.pipe(socket);
  });
  const hose = net.createServer({ allowHalfOpen: true }, (socket) => {
    const block = Buffer.alloc(64 * 1024, 7);
    const pump = (): void => {
      while (hoseWritten < 32 * 1024 * 1024) {
        hoseWritten += block.length;
        if (!socket.write(block)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.on('error', () => undefined);
    pump();
  });
  const udp = dgram.createSocket('udp4');
  udp.on('message', (datagram, from) => udp.send(datagram, from.port, from.address));
  echoPort = await listen(echo);
  hosePort = await listen(hose);
  udpPort = await new Promise<number>((resolve) => udp.bind(0, podIp, () => resolve(udp.address().port)));
  closers.push(() => echo.close(), () => hose.close(), () => udp.close());
  const runtime = { listPodSandboxes: async () => { sandboxListings++; return sandboxes(); } };
  const busB = await agentBus('b');
  tunnelB = startTunnelServer(ctx(busB, 'b'), { runtime });
  // The server's subscription reaches nats-server before anyone dials (else: no responders).
  await busB.flush();
  dialerA = createTunnelDialer(ctx(await agentBus('a'), 'a'));
}, 60_000);

afterAll(async () => {
  dialerA?.close();
  await tunnelB?.stop();
  for (const bus of buses) await bus.close().catch(() => undefined);
  for (const close of closers) close();
  await server?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.runIf(runs)('the NATS tunnel between two agents', () => {
  it('carries 8 MiB to a pod of the other node and back, intact', async () => {
    const stream = await dialerA.dial(target(echoPort));
    const payload = randomBytes(8 * 1024 * 1024);
    const echoed = readAll(stream);
    stream.end(payload);
    const back = await echoed;
    expect(back.length).toBe(payload.length);
    expect(back.equals(payload)).toBe(true);
    await waitUntil('both ends forget the stream', () => dialerA.streamCount() === 0 && tunnelB.streamCount() === 0, { timeoutMs: 5_000 });
    expect(tunnelB.acceptedTotal()).toBe(1);
  }, 60_000);

  it('a reader that does not read holds at most one window; the pod is stopped, then everything arrives', async () => {
    hoseWritten = 0;
    const stream = (await dialerA.dial(target(hosePort))) as BusStream;
    // A's half-close first: the pod's connection then closes entirely while the stream still holds its tail.
    stream.end();
    await waitUntil('the window full', () => stream.bufferedBytes() === stream.initialWindow, { timeoutMs: 20_000 });
    const writtenWhenFull = hoseWritten;
    expect(stream.bufferedBytes()).toBeLessThanOrEqual(stream.initialWindow);
    expect(stream.readableLength).toBeLessThanOrEqual(stream.initialWindow);
    // The pod could only fill the window and the two sockets' buffers, not its 32 MiB.
    expect(writtenWhenFull).toBeLessThan(16 * 1024 * 1024);
    const all = await readAll(stream);
    expect(all.length).toBe(32 * 1024 * 1024);
  }, 60_000);

  it('refuses an address that is not a pod of that node, a closed port, and a node nobody serves', async () => {
    const notAPod = await dialerA.dial(target(echoPort, { address: '127.64.2.99' })).catch((error: unknown) => error);
    expect(notAPod).toBeInstanceOf(TunnelRefusedError);
    expect(notAPod).toMatchObject({ reason: 'notAPod', message: expect.stringContaining('127.64.2.99') });
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, podIp, () => {
        const port = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    await expect(dialerA.dial(target(closed))).rejects.toMatchObject({ name: 'TunnelRefusedError', reason: 'connectFailed' });
    await expect(dialerA.dial(target(echoPort, { node: 'nobody' }))).rejects.toBeInstanceOf(TunnelUnreachableError);
  }, 30_000);

  it('a control-plane component cannot open a tunnel', async () => {
    const user = await credentials.mintComponent(cluster, 'kube-scheduler', { ttlMs: 60_000, nowMs: Date.now() });
    const bus = await NatsBus.connect({ servers: [server.url], name: 'scheduler', user, connectTimeoutMs: 5_000, reconnect: false, logger });
    buses.push(bus);
    const before = sandboxListings;
    const error = await createTunnelDialer(ctx(bus, 'kube-scheduler')).dial(target(echoPort), { timeoutMs: 2_000 }).catch((e: unknown) => e);
    // NATS refuses the publish to node.b.tunnel (the component's permissions), and says so.
    expect(error).toBeInstanceOf(TunnelRefusedError);
    expect(error).toMatchObject({ reason: 'forbidden' });
    expect(sandboxListings).toBe(before); // B never saw an open
  }, 30_000);

  it("B's tunnel stopping ends A's stream at once; a B that vanishes ends it within the peer timeout", async () => {
    // Stopping: RST to every dialer.
    const busC = await agentBus('c');
    const stopping = startTunnelServer(ctx(busC, 'c'), { runtime: { listPodSandboxes: async () => sandboxes() } });
    await busC.flush();
    const first = await dialerA.dial(target(echoPort, { node: 'c' }));
    const ended = readAll(first).then(() => null, (error: unknown) => error);
    const stoppedAt = Date.now();
    await stopping.stop();
    const error = await ended;
    expect(error).toBeInstanceOf(StreamResetError);
    expect(error).toMatchObject({ reason: 'remote' });
    expect(Date.now() - stoppedAt).toBeLessThan(quick.peerTimeoutMs);
    // Vanishing: its NATS connection closes with no RST; A hears nothing and times the peer out.
    const vanishingBus = await agentBus('d');
    startTunnelServer(ctx(vanishingBus, 'd'), { runtime: { listPodSandboxes: async () => sandboxes() }, tuning: quick });
    await vanishingBus.flush();
    const quickDialer = createTunnelDialer(ctx(await agentBus('a2'), 'a2'), { tuning: quick });
    const second = await quickDialer.dial(target(echoPort, { node: 'd' }));
    const lost = readAll(second).then(() => null, (e: unknown) => e);
    await vanishingBus.close();
    const vanishedAt = Date.now();
    const reset = await lost;
    expect(reset).toMatchObject({ name: 'StreamResetError', reason: 'peerTimeout' });
    expect(Date.now() - vanishedAt).toBeLessThan(quick.peerTimeoutMs + 2 * quick.keepaliveIntervalMs + 2_000);
    quickDialer.close();
  }, 30_000);

  it('UDP datagrams round-trip whole', async () => {
    const stream = await dialerA.dial(target(udpPort, { protocol: 'UDP' }));
    const received: Buffer[] = [];
    stream.on('data', (datagram: Buffer) => received.push(datagram));
    const sent = [Buffer.from('one'), randomBytes(1200), Buffer.from('three')];
    for (const datagram of sent) stream.write(datagram);
    await waitUntil('three datagrams back', () => received.length >= 3, { timeoutMs: 10_000 });
    expect(received.map((d) => d.toString('hex'))).toEqual(sent.map((d) => d.toString('hex')));
    stream.destroy();
  }, 30_000);
});
