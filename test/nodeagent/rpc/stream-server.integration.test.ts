/**
 * The agent's stream server over a real nats-server with NATS permissions, driven by a
 * member-like opener (a StreamEndpoint on the member's stream subject, as the API server opens
 * them) against the process runtime with real processes: `exec sh -c 'exit 3'` ends with exit
 * code 3 on channel 3; exec with stdin and the stdin close; exec on a terminal with a resize;
 * attach to a `stdin: true` container; port-forward carries an HTTP request to the pod's server
 * and back; the client's half-close reaches the pod (an echo server answers all, then closes);
 * a port nobody listens on is an error text; an agent's own user cannot open a stream
 * to another agent (NATS refuses it). Waits poll conditions with deadlines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, NatsServerProcess, SystemClock, createJsonLogger, ensureNatsCredentials } from '../../../bus/index.js';
import { StreamEndpoint, StreamOpenError, type BusStream } from '../../../bus/stream/index.js';
import { subjects } from '../../../bus/subjects.js';
import { startStreamServer } from '../../../nodeagent/rpc/stream-server.js';
import type { ExecStreamHeader, StreamOpenHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import { createRuntime, type ContainerConfig, type ContainerRuntime, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { readFrames, sendResize, sendStdin, sendStdinEof } from './stream-client.js';
import { waitUntil } from '../../support/wait.js';

const cluster = 'h5';
const logger = createJsonLogger({ level: 'error' });
const clock = new SystemClock();
const dir = mkdtempSync(join(tmpdir(), 'kubus-stream-server-'));
const cleanups: (() => Promise<void> | void)[] = [];
let runtime: ContainerRuntime;
let member: StreamEndpoint;
let agentBus: NatsBus;

beforeAll(async () => {
  const credentials = ensureNatsCredentials(join(dir, 'nats'));
  const nats = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024, auth: await credentials.serverConfig() });
  cleanups.push(() => nats.stop());
  const now = Date.now();
  agentBus = await NatsBus.connect({ servers: [nats.url], name: 'agent-n1', user: await credentials.mintAgent(cluster, 'n1', { ttlMs: 3_600_000, nowMs: now }), connectTimeoutMs: 5_000, reconnect: false, logger });
  const memberBus = await NatsBus.connect({ servers: [nats.url], name: 'member-m1', user: await credentials.mintMember(cluster, 'm1', now), connectTimeoutMs: 5_000, reconnect: false, logger });
  cleanups.unshift(async () => { await agentBus.close().catch(() => undefined); await memberBus.close().catch(() => undefined); });
  runtime = createRuntime('process', { dir: join(dir, 'agent'), podCidr: () => '127.64.253.0/24', nodeIp: '127.0.0.1', clock, logger });
  cleanups.unshift(async () => {
    for (const sandbox of await runtime.listPodSandboxes()) await runtime.removePodSandbox(sandbox.id);
    await runtime.close();
  });
  const server = startStreamServer({ bus: agentBus, cluster, nodeName: 'n1', clock, logger }, { runtime });
  cleanups.unshift(() => server.stop());
  member = new StreamEndpoint({ bus: memberBus, clock, logger, dataSubject: subjects(cluster).memberStream('m1') });
  cleanups.unshift(() => member.close());
  await agentBus.flush?.();
}, 30_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, holds: () => boolean, deadlineMs = 15_000): Promise<void> {
  await waitUntil(what, holds, { timeoutMs: deadlineMs, intervalMs: 20 });
}

let pods = 0;
async function runPod(command: string[], extra: Partial<ContainerConfig> = {}) {
  pods += 1;
  const uid = `uid-${pods}`;
  const sandbox: PodSandboxConfig = { uid, name: `pod-${pods}`, namespace: 'default', attempt: 0, hostname: `pod-${pods}`, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {}, hostNetwork: false, logDirectory: join(dir, 'pods', uid), portMappings: [] };
  const sandboxId = await runtime.runPodSandbox(sandbox);
  const ip = (await runtime.podSandboxStatus(sandboxId))?.ip ?? '';
  const config: ContainerConfig = {
    name: 'app', image: 'none', command, args: [], env: [{ name: 'POD_IP', value: ip }], mounts: [], resources: {}, logPath: join(sandbox.logDirectory, 'app', '0.log'), attempt: 0,
    labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': 'app', 'io.kubernetes.container.attempt': '0' }, ...extra,
  };
  const id = await runtime.createContainer(sandboxId, config, sandbox);
  await runtime.startContainer(id);
  return { uid, name: sandbox.name, ip, id };
}

/** The pod's server started a moment after its container: wait until it accepts. */
async function untilListening(host: string, port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function open(header: StreamOpenHeader): Promise<BusStream> {
  return member.open(subjects(cluster).nodeStream('n1'), { mode: 'bytes', header });
}

function execHeader(pod: { uid: string; name: string }, command: string[], extra: Partial<ExecStreamHeader> = {}): ExecStreamHeader {
  return { v: 1, op: 'exec', namespace: 'default', name: pod.name, uid: pod.uid, container: 'app', command, stdin: false, stdout: true, stderr: true, tty: false, ...extra };
}

describe('the agent stream server over NATS with the process runtime', () => {
  it('exec: exit code 3; stdin and its close; a terminal with a resize', async () => {
    const pod = await runPod(['sleep', '120']);
    const exit3 = readFrames(await open(execHeader(pod, ['sh', '-c', 'exit 3'])));
    await until('exit 3', () => exit3.ended());
    expect(exit3.status()).toEqual({ exitCode: 3 });

    const stream = await open(execHeader(pod, ['sh', '-c', 'cat; echo done >&2'], { stdin: true }));
    const piped = readFrames(stream);
    sendStdin(stream, 'line one\n');
    sendStdinEof(stream);
    await until('the piped exec', () => piped.ended());
    expect(piped.text(1)).toBe('line one\n');
    expect(piped.text(2)).toBe('done\n');
    expect(piped.status()).toEqual({ exitCode: 0 });
    stream.end();

    const terminal = await open(execHeader(pod, ['sh', '-c', 'until [ "$(stty size)" = "25 90" ]; do sleep 0.05; done; echo resized; exit 2'], { stderr: false, tty: true }));
    const onTerminal = readFrames(terminal);
    sendResize(terminal, 90, 25);
    await until('the terminal exec', () => onTerminal.ended());
    expect(onTerminal.text(1)).toContain('resized\r\n');
    expect(onTerminal.status()).toEqual({ exitCode: 2 });
  }, 30_000);

  it('attach: the main process\'s stdin and output', async () => {
    const pod = await runPod(['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true });
    const stream = await open({ ...execHeader(pod, []), op: 'attach', stdin: true });
    const attached = readFrames(stream);
    sendStdin(stream, 'ping\n');
    await until('the echo', () => attached.text(1) === 'got ping\n');
    stream.destroy();
  }, 30_000);

  it('port-forward: an HTTP request to the pod\'s server and its answer; a closed port is an error text', async () => {
    const server = 'require("http").createServer((q, s) => s.end("pong " + q.url)).listen(8080, process.env.POD_IP)';
    const pod = await runPod([process.execPath, '-e', server]);
    const header = { v: 1, op: 'portforward', namespace: 'default', name: pod.name, uid: pod.uid, port: 8080 } as const;
    await untilListening(pod.ip, 8080);
    const stream = await open(header);
    const forwarded = readFrames(stream);
    sendStdin(stream, 'GET /hello HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n');
    await until('the answer', () => forwarded.ended());
    expect(forwarded.text(1)).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*pong \/hello$/);
    expect(forwarded.text(3)).toBe('');
    stream.end();

    const refused = readFrames(await open({ ...header, port: 8081 }));
    await until('the refusal', () => refused.ended());
    expect(refused.text(3)).toContain('ECONNREFUSED');
  }, 30_000);

  it('port-forward: the client\'s half-close reaches the pod, whose answer and close end the stream', async () => {
    const echo = 'require("net").createServer((s) => s.pipe(s)).listen(9090, process.env.POD_IP)';
    const pod = await runPod([process.execPath, '-e', echo]);
    await untilListening(pod.ip, 9090);
    const stream = await open({ v: 1, op: 'portforward', namespace: 'default', name: pod.name, uid: pod.uid, port: 9090 });
    const echoed = readFrames(stream);
    const big = 'x'.repeat(200_000);
    sendStdin(stream, big);
    sendStdinEof(stream);
    await until('the echo and the end', () => echoed.ended());
    expect(echoed.text(1)).toBe(big);
    expect(echoed.text(3)).toBe('');
    stream.end();
  }, 30_000);

  it('an agent cannot open a stream to another agent (NATS permissions)', async () => {
    const stranger = new StreamEndpoint({ bus: agentBus, clock, logger, dataSubject: subjects(cluster).nodeStream('n1') + 'x' });
    const error = await stranger.open(subjects(cluster).nodeStream('n2'), { mode: 'bytes', header: null, timeoutMs: 3_000 }).then(() => null, (e: unknown) => e);
    stranger.close();
    expect(error).toBeInstanceOf(StreamOpenError);
  });
});
