/**
 * Attach to a process container's main process: its output from now on, read from the raw
 * output files its wrapper appends to (wrapper.ts), and its stdin when the container has
 * `stdin: true` (a FIFO the container holds open read-write, so writers come and go without it
 * ever seeing EOF, as Kubernetes keeps a container's stdin open across attaches unless stdinOnce).
 *
 * Decision: the raw files rather than the CRI log: they carry the output the moment it is
 * written (the CRI log is copied from them every poll), and stay separate per stream. Cost: when
 * the agent's log copier truncates a raw file (output-tailer.ts, at 1 MiB fully copied) while
 * this attach was still behind, that part of the output is not shown to it; the log has it.
 *
 * A process container has no terminal: with `tty`, stderr is merged into the one output stream
 * and a resize does nothing.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { AttachRequest } from '../types.js';
import { interactiveLimits } from './interactive-limits.js';
import type { ClosableSession } from './exec-session.js';

export interface AttachOptions {
  /** The container's state directory: `stdout`, `stderr` (raw output), `stdin` (the FIFO, when it has stdin). */
  readonly stateDir: string;
  /** Whether the container's main process has exited; null: running (its exit code otherwise). */
  readonly exitCode: () => number | null;
  /** Paces the reads of the output files. */
  readonly clock: Clock;
}

/** Reads a file that only grows (or is truncated to 0 and grows again) from its current end on, until `ended` and caught up. */
class FileFollower extends Readable {
  private offset: number;
  private timer: TimerId | null = null;
  private stopped = false;

  constructor(private readonly path: string, private readonly ended: () => boolean, private readonly clock: Clock) {
    super({ highWaterMark: interactiveLimits.attachReadBytes });
    this.offset = sizeOf(path);
  }

  override _read(): void {
    if (this.timer === null && !this.stopped) this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.push(null);
  }

  private poll(): void {
    this.timer = null;
    if (this.stopped) return;
    // Asked before reading: if it had ended then, this read sees all it wrote.
    const ended = this.ended();
    const chunk = this.readMore();
    if (chunk.length > 0) {
      // push() false: the reader is full; _read calls poll again when it wants more.
      if (this.push(chunk)) this.schedule(0);
      return;
    }
    if (ended) {
      this.stopped = true;
      this.push(null);
      return;
    }
    this.schedule(interactiveLimits.attachPollMs);
  }

  private schedule(delayMs: number): void {
    this.timer = this.clock.setTimeout(() => this.poll(), delayMs);
  }

  private readMore(): Buffer {
    let descriptor: number;
    try {
      descriptor = openSync(this.path, 'r');
    } catch {
      return Buffer.alloc(0);
    }
    try {
      const size = fstatSync(descriptor).size;
      // Truncated by the log copier: the container's next writes land at the start (O_APPEND).
      if (size < this.offset) this.offset = 0;
      const length = Math.min(size - this.offset, interactiveLimits.attachReadBytes);
      if (length <= 0) return Buffer.alloc(0);
      const buffer = Buffer.alloc(length);
      const read = readSync(descriptor, buffer, 0, length, this.offset);
      this.offset += read;
      return buffer.subarray(0, read);
    } finally {
      closeSync(descriptor);
    }
  }
}

function sizeOf(path: string): number {
  try {
    const descriptor = openSync(path, 'r');
    try {
      return fstatSync(descriptor).size;
    } finally {
      closeSync(descriptor);
    }
  } catch {
    return 0;
  }
}

/** Opens the container's stdin FIFO for writing without blocking: null when it has none or nothing reads it (exited). */
function openStdin(stateDir: string): Socket | null {
  let descriptor: number;
  try {
    descriptor = openSync(join(stateDir, 'stdin'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  if (!fstatSync(descriptor).isFIFO()) {
    closeSync(descriptor);
    return null;
  }
  // A pipe fd as a net.Socket: libuv writes it non-blocking, and write() false / 'drain' is its back-pressure.
  const socket = new Socket({ fd: descriptor, readable: false, writable: true });
  socket.on('error', () => undefined);
  return socket;
}

export function startAttach(request: AttachRequest, options: AttachOptions): ClosableSession {
  let closed = false;
  const ended = () => closed || options.exitCode() !== null;
  const stdout = new FileFollower(join(options.stateDir, 'stdout'), ended, options.clock);
  const stderr = new FileFollower(join(options.stateDir, 'stderr'), ended, options.clock);
  const stdin = request.stdin ? openStdin(options.stateDir) : null;
  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let endedStreams = 0;
  const onEnd = () => {
    if (++endedStreams < 2) return;
    stdin?.destroy();
    resolveExit(closed ? -1 : options.exitCode() ?? -1);
  };
  stdout.on('end', onEnd);
  stderr.on('end', onEnd);
  const output = request.tty ? merge(stdout, stderr) : stdout;
  return {
    stdin,
    stdout: output,
    stderr: request.tty ? null : stderr,
    resize: () => undefined,
    exit,
    close: () => {
      if (closed) return;
      closed = true;
      stdin?.destroy();
      stdout.stop();
      stderr.stop();
      // The followers' 'end' only comes once read: the session is over now.
      resolveExit(-1);
    },
  };
}

/** One readable of both (a terminal has one output); ends when both ended. */
function merge(a: Readable, b: Readable): Readable {
  const out = new Readable({ read: () => { a.resume(); b.resume(); } });
  let ended = 0;
  for (const source of [a, b]) {
    source.on('data', (chunk: Buffer) => {
      if (!out.push(chunk)) {
        a.pause();
        b.pause();
      }
    });
    source.on('end', () => {
      if (++ended === 2) out.push(null);
    });
  }
  return out;
}
