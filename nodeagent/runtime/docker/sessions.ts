/**
 * Interactive exec and attach over the engine's hijacked connections, and execSync for probes
 * and hooks.
 *
 * - The hijacked socket carries stdin one way and output the other: multiplexed frames
 *   (frame-demuxer.ts) without a terminal, raw bytes with one. Ending our stdin half-closes the
 *   socket, which the engine passes on as EOF to the process.
 * - An exec's exit code is the exec's inspect once its output ended; an attach's is the
 *   container's (wait), or -1 when the session closed first (the contract's rule).
 * - execSync keeps `execOutputBytesMax` per stream; past its timeout the exec's process is
 *   killed by its host pid (the engine has no "kill exec"; the agent runs on the engine's host).
 */
import { PassThrough, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ExecRequest, ExecResult, ExecSession, AttachRequest } from '../types.js';
import { FrameDemuxer } from './frame-demuxer.js';
import { dockerLimits as limits } from './limits.js';
import { outlives, withTimeout, type Engine } from './timeout.js';

interface Outputs {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough | null;
}

/** Splits a hijacked socket's output into stdout/stderr streams; both end with the socket. */
function pipeOutput(socket: Duplex, tty: boolean): Outputs & { readonly ended: Promise<void> } {
  const stdout = new PassThrough();
  const stderr = tty ? null : new PassThrough();
  const demuxer = new FrameDemuxer();
  socket.on('data', (chunk: Buffer) => {
    if (tty) {
      stdout.write(chunk);
      return;
    }
    try {
      demuxer.push(chunk, (stream, payload) => (stream === 'stderr' && stderr !== null ? stderr : stdout).write(payload));
    } catch (error) {
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  });
  const ended = new Promise<void>((resolve) => {
    const finish = () => {
      stdout.end();
      stderr?.end();
      resolve();
    };
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('error', finish);
  });
  return { stdout, stderr, ended };
}

/** A writable for the session's stdin whose end half-closes the socket (EOF for the process). */
function stdinOf(socket: Duplex): NodeJS.WritableStream {
  const stdin = new PassThrough();
  stdin.on('data', (chunk: Buffer) => {
    if (!socket.destroyed) socket.write(chunk);
  });
  stdin.on('end', () => {
    if (!socket.destroyed) socket.end();
  });
  return stdin;
}

export async function startExec(engine: Engine, containerId: string, request: ExecRequest): Promise<ExecSession> {
  const exec = await withTimeout(engine.clock, engine.docker.getContainer(containerId).exec({
    Cmd: [...request.command], AttachStdin: request.stdin, AttachStdout: true, AttachStderr: true, Tty: request.tty,
  }), limits.requestTimeoutMs, `exec in ${containerId}`);
  const socket = (await withTimeout(engine.clock, exec.start({ hijack: true, stdin: true, Detach: false, Tty: request.tty }), limits.requestTimeoutMs, `start exec in ${containerId}`)) as Duplex;
  const output = pipeOutput(socket, request.tty);
  // Without stdin the process must not wait for input that never comes: half-close at once.
  if (!request.stdin) socket.end();
  const exit = output.ended.then(async () => {
    const inspected = await withTimeout(engine.clock, exec.inspect(), limits.requestTimeoutMs, `inspect exec in ${containerId}`).catch(() => null);
    return inspected?.Running === true ? -1 : inspected?.ExitCode ?? -1;
  });
  return {
    stdin: request.stdin ? stdinOf(socket) : null,
    stdout: output.stdout,
    stderr: output.stderr,
    resize: (columns, rows) => {
      if (request.tty) void exec.resize({ w: columns, h: rows }).catch(() => undefined);
    },
    exit,
    close: () => {
      void killExec(engine, exec).finally(() => socket.destroy());
    },
  };
}

export async function startAttach(engine: Engine, containerId: string, request: AttachRequest): Promise<ExecSession> {
  const container = engine.docker.getContainer(containerId);
  const socket = (await withTimeout(engine.clock, container.attach({ stream: true, stdin: request.stdin, stdout: true, stderr: true, hijack: true, logs: false }), limits.requestTimeoutMs, `attach to ${containerId}`)) as unknown as Duplex;
  const output = pipeOutput(socket, request.tty);
  const waited = container.wait().then((result: { StatusCode?: number }) => result.StatusCode ?? -1, () => -1);
  const exit = Promise.race([
    waited,
    // The session closed: the container's exit code when it has just exited, else -1.
    output.ended.then(() => withTimeout(engine.clock, waited, limits.attachExitSettleMs, 'attach exit').catch(() => -1)),
  ]);
  return {
    stdin: request.stdin ? stdinOf(socket) : null,
    stdout: output.stdout,
    stderr: output.stderr,
    resize: (columns, rows) => {
      if (request.tty) void container.resize({ w: columns, h: rows }).catch(() => undefined);
    },
    exit,
    // Detach: the container keeps running; `exit` answers -1 (its code is not known yet).
    close: () => socket.destroy(),
  };
}

export async function execSync(engine: Engine, containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
  const exec = await withTimeout(engine.clock, engine.docker.getContainer(containerId).exec({
    Cmd: [...command], AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
  }), limits.requestTimeoutMs, `exec in ${containerId}`);
  const socket = (await withTimeout(engine.clock, exec.start({ hijack: true, stdin: true, Detach: false, Tty: false }), limits.requestTimeoutMs, `start exec in ${containerId}`)) as Duplex;
  socket.end();
  const kept = { stdout: new BoundedBuffer(limits.execOutputBytesMax), stderr: new BoundedBuffer(limits.execOutputBytesMax) };
  const demuxer = new FrameDemuxer();
  socket.on('data', (chunk: Buffer) => {
    try {
      demuxer.push(chunk, (stream, payload) => kept[stream].add(payload));
    } catch {
      socket.destroy();
    }
  });
  const ended = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('end', () => resolve());
    socket.once('error', () => resolve());
  });
  const timedOut = await outlives(engine.clock, ended, timeoutMs);
  if (timedOut) {
    await killExec(engine, exec);
    await withTimeout(engine.clock, ended, limits.execKillSettleMs, 'killed exec').catch(() => socket.destroy());
  }
  const inspected = await withTimeout(engine.clock, exec.inspect(), limits.requestTimeoutMs, `inspect exec in ${containerId}`).catch(() => null);
  return {
    exitCode: timedOut ? 137 : inspected?.ExitCode ?? -1,
    stdout: kept.stdout.bytes(),
    stderr: kept.stderr.bytes(),
    timedOut,
  };
}

/**
 * Kills an exec's process by its host pid (the engine has no API for it; the agent runs on the
 * engine's host), its process group first: a terminal exec leads its own group, and a shell's
 * children go with it.
 */
async function killExec(engine: Engine, exec: Dockerode.Exec): Promise<void> {
  const inspected = await withTimeout(engine.clock, exec.inspect(), limits.requestTimeoutMs, 'inspect exec').catch(() => null);
  const pid = inspected?.Pid;
  if (inspected?.Running !== true || pid === undefined || pid <= 0) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // not a group leader, or already gone
    }
  }
}

class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (room <= 0) return;
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(Buffer.from(piece));
    this.size += piece.length;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
