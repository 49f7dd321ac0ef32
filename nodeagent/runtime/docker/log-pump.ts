/**
 * Copies one container's output from the engine's log into its CRI file (the agent's log reader
 * and `kubectl logs` read that file for every runtime). The engine keeps its own log (json-file),
 * so nothing is lost while no pump runs: a pump follows from its file's resume point
 * (log-resume.ts) with the engine's timestamps, and re-follows with a bounded backoff when the
 * stream ends while the container still runs (dockerd restarted). It ends once the stream ends
 * with the container stopped.
 *
 * Bounds: writes are synchronous appends, so the engine's stream is read no faster than the file
 * takes it (no queue); a line without a newline is held up to `logLineBytesMax` per stream.
 */
import type Dockerode from 'dockerode';
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { CriLogWriter, splitOutput, type LogStream } from '../cri-log-writer.js';
import { FrameDemuxer } from './frame-demuxer.js';
import { dockerLimits as limits } from './limits.js';
import { ResumeFilter, readResumePoint } from './log-resume.js';

export interface LogPumpOptions {
  readonly containerId: string;
  readonly logPath: string;
  /** A terminal's output comes as one raw stream (stdout), not in frames. */
  readonly tty: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class LogPump {
  private readonly writer: CriLogWriter;
  private stream: NodeJS.ReadableStream | null = null;
  private timer: TimerId | null = null;
  private closed = false;
  private retryMs: number = limits.logRetryMinMs;
  private finishedResolve: () => void = () => undefined;
  /** Resolves when the container stopped and its whole log is in the file (or the pump was closed). */
  readonly finished: Promise<void>;

  constructor(private readonly docker: Dockerode, private readonly options: LogPumpOptions) {
    this.writer = new CriLogWriter({ path: options.logPath });
    this.finished = new Promise((resolve) => { this.finishedResolve = resolve; });
  }

  start(): void {
    void this.follow();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    const stream = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    stream?.destroy?.();
    this.stream = null;
    this.writer.close();
    this.finishedResolve();
  }

  private async follow(): Promise<void> {
    if (this.closed) return;
    const filter = new ResumeFilter(readResumePoint(this.options.logPath));
    const lines = new EngineLineAssembler((stream, ms, content) => {
      if (filter.isNew(ms)) this.write(stream, ms, content);
    });
    try {
      const container = this.docker.getContainer(this.options.containerId);
      const stream = await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since: filter.sinceSeconds });
      if (this.closed) {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        return;
      }
      this.stream = stream;
      const demuxer = new FrameDemuxer();
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (chunk: Buffer) => {
          try {
            this.retryMs = limits.logRetryMinMs;
            if (this.options.tty) lines.push('stdout', chunk);
            else demuxer.push(chunk, (kind, payload) => lines.push(kind, payload));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', (error: Error) => reject(error));
      });
      this.stream = null;
      if (this.closed) return;
      const running = (await container.inspect()).State.Running;
      if (!running) {
        lines.flush();
        this.writer.close();
        this.finishedResolve();
        return;
      }
    } catch (error) {
      if (this.closed) return;
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) {
        // The container is gone (removed): its log is as complete as it will get.
        this.writer.close();
        this.finishedResolve();
        return;
      }
      this.options.logger.warn('container log stream failed; following again', { containerId: this.options.containerId, error: String(error), retryMs: this.retryMs });
    }
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(limits.logRetryMaxMs, this.retryMs * 2);
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.follow();
    }, delay);
  }

  private write(stream: LogStream, ms: number, content: Buffer): void {
    const time = new Date(ms);
    const { lines } = splitOutput(Buffer.concat([content, Buffer.from('\n')]), { lineBytesMax: limits.logLineBytesMax, atEnd: true });
    for (const line of lines) this.writer.write(stream, line, time);
  }
}

/**
 * The engine's timestamped lines (`<RFC3339Nano> <text>\n`) per stream, from payloads that may cut
 * a line anywhere. A line longer than the bound is handed on in pieces, each stamped as its start.
 */
export class EngineLineAssembler {
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly lastMs: Record<LogStream, number> = { stdout: 0, stderr: 0 };

  constructor(private readonly onLine: (stream: LogStream, ms: number, content: Buffer) => void) {}

  push(stream: LogStream, payload: Buffer): void {
    let buffer = this.pending[stream].length === 0 ? payload : Buffer.concat([this.pending[stream], payload]);
    for (;;) {
      const newline = buffer.indexOf(0x0a);
      if (newline < 0) break;
      this.emit(stream, buffer.subarray(0, newline));
      buffer = buffer.subarray(newline + 1);
    }
    // Bound: a line that never ends is cut (the CRI writer then splits it into P pieces).
    if (buffer.length > 2 * limits.logLineBytesMax) {
      this.emit(stream, buffer);
      buffer = Buffer.alloc(0);
    }
    this.pending[stream] = Buffer.from(buffer);
  }

  /** The stream ended: what is left of each stream is its last line. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream].length > 0) this.emit(stream, this.pending[stream]);
      this.pending[stream] = Buffer.alloc(0);
    }
  }

  private emit(stream: LogStream, line: Buffer): void {
    const space = line.indexOf(0x20);
    const ms = space > 0 ? Date.parse(line.subarray(0, space).toString('latin1')) : Number.NaN;
    if (Number.isNaN(ms)) {
      // A piece of a line cut by the bound: no timestamp of its own.
      this.onLine(stream, this.lastMs[stream], line);
      return;
    }
    this.lastMs[stream] = ms;
    // A terminal ends lines with \r\n; the CRI line is the text without it.
    const content = line.subarray(space + 1);
    this.onLine(stream, ms, content.length > 0 && content[content.length - 1] === 0x0d ? content.subarray(0, content.length - 1) : content);
  }
}
