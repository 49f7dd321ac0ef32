/**
 * Container logs in the CRI format, as containerd writes them and the kubelet reads them:
 * `<RFC3339Nano> <stdout|stderr> <F|P> <text>\n`, `P` marking a piece of a line longer than the
 * line bound (the last piece is `F`). Shared by every runtime that writes its containers' logs
 * itself (process now; the log reader and `kubectl logs` read the same files for every runtime).
 *
 * Rotation: when a line would take the file past `fileBytesMax`, `<path>` becomes `<path>.1`,
 * `.1` becomes `.2` … and the oldest (`.<filesMax-1>`) is dropped: at most `filesMax` files of
 * about `fileBytesMax` each per container instance (the kubelet's 10 MiB × 5 by default).
 *
 * Decision: writes are synchronous appends on one open descriptor. A container's output reaches
 * the writer in polls of bounded size (limits.ts), so one call is short, and synchronous writes
 * keep the lines of one file in the order they were read without a queue of their own.
 * Timestamps are UTC with the wall clock's millisecond precision padded to nanoseconds.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { containerRuntimeLimits } from './limits.js';

export type LogStream = 'stdout' | 'stderr';
export type LogTag = 'F' | 'P';

export interface CriLogLine {
  readonly time: string;
  readonly stream: LogStream;
  readonly tag: LogTag;
  readonly content: string;
}

/** RFC 3339 with nanoseconds in UTC: `2026-12-03T04:29:34.123000000Z`. */
export function formatCriTimestamp(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export interface CriRecord {
  /** RFC3339Nano as written. */
  readonly timestamp: string;
  readonly stream: 'stdout' | 'stderr';
  /** `P`: the line continues in the next record. */
  readonly partial: boolean;
  readonly content: Buffer;
}

/** One CRI record without its newline; null for a line that is not one (skipped, as the kubelet does). */
export function parseCriRecord(line: Buffer): CriRecord | null {
  const first = line.indexOf(0x20);
  const second = first < 0 ? -1 : line.indexOf(0x20, first + 1);
  if (first <= 0 || second < 0) return null;
  const stream = line.subarray(first + 1, second).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tagEnd = line.indexOf(0x20, second + 1);
  const tag = line.subarray(second + 1, tagEnd < 0 ? line.length : tagEnd).toString('latin1');
  // The tag field may carry more flags after ':' (CRI's "F:..." form); only P/F matter here.
  const kind = tag.split(':')[0];
  if (kind !== 'P' && kind !== 'F') return null;
  return {
    timestamp: line.subarray(0, first).toString('latin1'),
    stream,
    partial: kind === 'P',
    content: tagEnd < 0 ? Buffer.alloc(0) : line.subarray(tagEnd + 1),
  };
}

/** One line of a CRI log file (without its newline) as text, or null when it is not one. */
export function parseCriLogLine(line: string): CriLogLine | null {
  const record = parseCriRecord(Buffer.from(line, 'utf8'));
  if (record === null) return null;
  return { time: record.timestamp, stream: record.stream, tag: record.partial ? 'P' : 'F', content: record.content.toString('utf8') };
}

export interface SplitLine {
  readonly content: Buffer;
  readonly tag: LogTag;
}

/**
 * Cuts raw output into CRI lines: each newline ends an `F` line; a run of `lineBytesMax` bytes
 * with no newline is a `P` piece. Bytes after the last newline that do not fill a piece are left
 * (`consumedBytes` stops before them) to be read again with what follows, unless `atEnd` (the
 * writer is gone: they are the last, `F`, line).
 */
export function splitOutput(buffer: Buffer, options: { readonly lineBytesMax: number; readonly atEnd: boolean }): { readonly lines: readonly SplitLine[]; readonly consumedBytes: number } {
  const lines: SplitLine[] = [];
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(0x0a, start);
    const lineEnd = newline === -1 ? buffer.length : newline;
    if (lineEnd - start >= options.lineBytesMax) {
      const pieceEnd = start + options.lineBytesMax;
      const isLast = newline !== -1 && pieceEnd === newline;
      lines.push({ content: buffer.subarray(start, pieceEnd), tag: isLast ? 'F' : 'P' });
      start = isLast ? newline + 1 : pieceEnd;
      continue;
    }
    if (newline === -1) {
      if (!options.atEnd) break;
      lines.push({ content: buffer.subarray(start), tag: 'F' });
      start = buffer.length;
      break;
    }
    lines.push({ content: buffer.subarray(start, newline), tag: 'F' });
    start = newline + 1;
  }
  return { lines, consumedBytes: start };
}

export interface CriLogWriterOptions {
  readonly path: string;
  readonly fileBytesMax?: number;
  readonly filesMax?: number;
}

export class CriLogWriter {
  private descriptor: number | null = null;
  private sizeBytes = 0;
  private readonly fileBytesMax: number;
  private readonly filesMax: number;

  constructor(private readonly options: CriLogWriterOptions) {
    this.fileBytesMax = options.fileBytesMax ?? containerRuntimeLimits.logFileBytesMax;
    this.filesMax = options.filesMax ?? containerRuntimeLimits.logFilesMax;
  }

  get path(): string {
    return this.options.path;
  }

  write(stream: LogStream, line: SplitLine, time: Date): void {
    const record = Buffer.concat([Buffer.from(`${formatCriTimestamp(time)} ${stream} ${line.tag} `), line.content, Buffer.from('\n')]);
    if (this.descriptor === null) this.open();
    if (this.sizeBytes > 0 && this.sizeBytes + record.length > this.fileBytesMax) this.rotate();
    writeSync(this.descriptor as number, record);
    this.sizeBytes += record.length;
  }

  close(): void {
    if (this.descriptor !== null) closeSync(this.descriptor);
    this.descriptor = null;
  }

  private open(): void {
    mkdirSync(dirname(this.options.path), { recursive: true });
    this.descriptor = openSync(this.options.path, 'a', 0o640);
    this.sizeBytes = fstatSync(this.descriptor).size;
  }

  private rotate(): void {
    this.close();
    const path = this.options.path;
    rmSync(`${path}.${this.filesMax - 1}`, { force: true });
    for (let index = this.filesMax - 2; index >= 1; index -= 1) {
      if (existsSync(`${path}.${index}`)) renameSync(`${path}.${index}`, `${path}.${index + 1}`);
    }
    if (this.filesMax > 1) renameSync(path, `${path}.1`);
    else rmSync(path, { force: true });
    this.open();
  }
}
