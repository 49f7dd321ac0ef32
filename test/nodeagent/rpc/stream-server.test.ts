/**
 * The agent's stream server on the simulated network with a fake runtime
 * (nodeagent/rpc/stream-server.ts): each refusal reason for what it must refuse (an opener that is
 * not a member, a bad header, no such pod or container, a container not running, a runtime that
 * cannot, more than streamsPerNodeMax sessions); an exec relays stdout and stderr as channels 1
 * and 2, stdin frames and the stdin close into the process, resizes, and ends with the exit code
 * on channel 3; a start failure is an error status; a member that does not read stops the
 * process's output (paused, nothing buffered beyond the windows) and all of it arrives once it
 * reads; a member's reset closes the session; a port that refuses is an error text on channel 3.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import { StreamEndpoint, StreamRefusedError, type BusStream } from '../../../bus/stream/index.js';
import { subjects } from '../../../bus/subjects.js';
import { startStreamServer } from '../../../nodeagent/rpc/stream-server.js';
import { streamProtocolLimits, type ExecStreamHeader, type StreamOpenHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import { PortForwardError, RuntimeUnsupportedError } from '../../../nodeagent/runtime/errors.js';
import { runtimeLabels, type ContainerRuntime, type ContainerStatus, type ExecRequest, type ExecSession, type PodSandboxStatus } from '../../../nodeagent/runtime/types.js';
import { simHarness } from '../../bus/sim-harness.js';
import { readFrames, sendResize, sendStdin, sendStdinEof } from './stream-client.js';

const logger = createJsonLogger({ level: 'error' });
const cluster = 'c';

interface FakeSession extends ExecSession {
  readonly stdin: PassThrough;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly request: ExecRequest;
  readonly resizes: { columns: number; rows: number }[];
  finish(code: number): void;
  closed: boolean;
  close(): void;
}

function fakeSession(request: ExecRequest): FakeSession {
  let finish: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => { finish = resolve; });
  const session: FakeSession = {
    stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), request, resizes: [], closed: false,
    resize: (columns, rows) => session.resizes.push({ columns, rows }),
    exit,
    finish: (code) => {
      session.stdout.end();
      session.stderr.end();
      finish(code);
    },
    close: () => {
      session.closed = true;
      session.finish(-1);
    },
  };
  return session;
}

const running: ContainerStatus = {
  id: 'c1', sandboxId: 'sb1', name: 'app', attempt: 0, state: 'running', createdAtMs: 0, startedAtMs: 0, finishedAtMs: null, exitCode: null, reason: null, message: null, logPath: '', image: 'x',
  labels: { [runtimeLabels.podUid]: 'u1', [runtimeLabels.containerName]: 'app', [runtimeLabels.attempt]: '0' },
};
const stopped: ContainerStatus = { ...running, id: 'c2', state: 'exited', labels: { ...running.labels, [runtimeLabels.containerName]: 'done' } };
const sandbox: PodSandboxStatus = { id: 'sb1', podUid: 'u1', state: 'ready', ip: '127.64.0.2', createdAtMs: 0, labels: { [runtimeLabels.podUid]: 'u1' } };

function world(options: { exec?: (request: ExecRequest) => Promise<ExecSession> } = {}) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(5) });
  const sessions: FakeSession[] = [];
  const runtime = {
    listContainers: async () => [running, stopped],
    listPodSandboxes: async () => [sandbox],
    exec: options.exec ?? (async (_id: string, request: ExecRequest) => {
      const session = fakeSession(request);
      sessions.push(session);
      return session;
    }),
    attach: async () => { throw new RuntimeUnsupportedError('fake', 'attach', 'nothing runs here'); },
    portForward: async (sandboxId: string, port: number) => { throw new PortForwardError(sandboxId, '127.64.0.2', port, 'connect ECONNREFUSED'); },
  } as unknown as ContainerRuntime;
  const server = startStreamServer({ bus: network.connect('agent'), cluster, nodeName: 'n1', clock, logger }, { runtime });
  const member = new StreamEndpoint({ bus: network.connect('member'), clock, logger, dataSubject: subjects(cluster).memberStream('m1') });
  const stranger = new StreamEndpoint({ bus: network.connect('stranger'), clock, logger, dataSubject: subjects(cluster).nodeStream('n2') });
  const sim = simHarness(clock);
  const open = (header: unknown, from: StreamEndpoint = member) => sim.settle(from.open(subjects(cluster).nodeStream('n1'), { mode: 'bytes', header }), 5_000);
  return { clock, server, member, stranger, sessions, sim, open };
}

const exec: ExecStreamHeader = { v: 1, op: 'exec', namespace: 'default', name: 'web', uid: 'u1', container: 'app', command: ['sh'], stdin: true, stdout: true, stderr: true, tty: false };

async function refusedReason(promise: Promise<BusStream>): Promise<string> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StreamRefusedError);
  return (error as StreamRefusedError).reason;
}

describe('the agent stream server', () => {
  it('refuses what it must, each with its reason', async () => {
    const { open, stranger } = world();
    expect(await refusedReason(open(exec, stranger))).toBe('forbidden');
    expect(await refusedReason(open({ ...exec, op: 'shell' }))).toBe('badRequest');
    expect(await refusedReason(open({ ...exec, uid: 'nope' }))).toBe('podNotFound');
    expect(await refusedReason(open({ ...exec, container: 'nope' }))).toBe('containerNotFound');
    expect(await refusedReason(open({ ...exec, container: 'done' }))).toBe('notRunning');
    expect(await refusedReason(open({ ...exec, op: 'attach', command: [] }))).toBe('unsupported');
    expect(await refusedReason(open({ v: 1, op: 'portforward', namespace: 'default', name: 'web', uid: 'nope', port: 80 } satisfies StreamOpenHeader))).toBe('podNotFound');
  });

  it('relays an exec: output channels, stdin and its close, resize, then the exit code and the end', async () => {
    const { open, sessions, sim, server } = world();
    const stream = await open(exec);
    const read = readFrames(stream);
    const session = sessions[0]!;
    expect(session.request).toEqual({ command: ['sh'], stdin: true, tty: false });
    const input: Buffer[] = [];
    let stdinEnded = false;
    session.stdin.on('data', (chunk: Buffer) => input.push(chunk));
    session.stdin.on('end', () => { stdinEnded = true; });
    sendResize(stream, 120, 40);
    sendStdin(stream, 'echo hi\n');
    sendStdinEof(stream);
    session.stdout.write('hi\n');
    session.stderr.write('warning\n');
    await sim.waitFor(() => stdinEnded && read.text(1) === 'hi\n' && read.text(2) === 'warning\n', 5_000);
    expect(Buffer.concat(input).toString()).toBe('echo hi\n');
    expect(session.resizes).toEqual([{ columns: 120, rows: 40 }]);
    session.finish(3);
    await sim.waitFor(() => read.ended(), 5_000);
    expect(read.status()).toEqual({ exitCode: 3 });
    await sim.waitFor(() => server.sessionCount() === 0, 5_000);
  });

  it('a runtime that fails to start the command answers an error status', async () => {
    const { open, sim } = world({ exec: async () => { throw new Error('OCI runtime exec failed: no such file'); } });
    const read = readFrames(await open(exec));
    await sim.waitFor(() => read.ended(), 5_000);
    expect(read.status()).toEqual({ error: 'OCI runtime exec failed: no such file' });
  });

  it('a member that does not read stops the output; all of it arrives once it reads', async () => {
    const { open, sessions, sim } = world();
    const stream = await open({ ...exec, stdin: false });
    const session = sessions[0]!;
    const block = Buffer.alloc(16 * 1024, 'x');
    const total = 4 * 1024 * 1024;
    let written = 0;
    const writeMore = () => {
      while (written < total) {
        written += block.length;
        if (!session.stdout.write(block)) return;
      }
    };
    session.stdout.on('drain', writeMore);
    writeMore();
    await sim.waitFor(() => session.stdout.isPaused(), 5_000);
    await sim.waitFor(() => false, 2_000).catch(() => undefined);
    // Held: the member's window, the agent's unsent bytes (one window) and the pipe buffers; far below what was offered.
    expect(written).toBeLessThan(2 * 1024 * 1024);
    const read = readFrames(stream);
    await sim.waitFor(() => written >= total, 60_000);
    session.finish(0);
    await sim.waitFor(() => read.ended(), 60_000);
    expect(read.text(1).length).toBe(total);
    expect(read.status()).toEqual({ exitCode: 0 });
  });

  it('a member\'s reset closes the session; more than streamsPerNodeMax sessions are refused as busy', async () => {
    const { open, sessions, sim, server } = world();
    const first = await open(exec);
    first.on('error', () => undefined);
    first.destroy();
    await sim.waitFor(() => sessions[0]!.closed && server.sessionCount() === 0, 5_000);
    const streams: BusStream[] = [];
    for (let i = 0; i < streamProtocolLimits.streamsPerNodeMax; i++) streams.push(await open(exec));
    expect(await refusedReason(open(exec))).toBe('busy');
    for (const session of sessions.slice(1)) session.finish(0);
    for (const stream of streams) stream.resume().end();
    await sim.waitFor(() => server.sessionCount() === 0, 10_000);
  });

  it('a port-forward to a port nobody listens on is an error text on channel 3, then the end', async () => {
    const { open, sim } = world();
    const read = readFrames(await open({ v: 1, op: 'portforward', namespace: 'default', name: 'web', uid: 'u1', port: 80 } satisfies StreamOpenHeader));
    await sim.waitFor(() => read.ended(), 5_000);
    expect(read.text(3)).toContain('ECONNREFUSED');
  });
});
