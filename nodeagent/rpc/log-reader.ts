/**
 * Reads a container instance's CRI log files (`<dir>/pods/<ns>_<name>_<uid>/<container>/<attempt>.log`
 * and its rotated files `.1` … `.n`, `.1` the newest of them; log-paths.ts, runtime/types.ts) as
 * `kubectl logs` shows them: content only, partial (`P`) lines joined with what follows, an
 * optional RFC3339Nano timestamp at the start of each line, lines before `sinceTime` skipped, the
 * last `tailLines` lines only. One call returns one bounded chunk and a cursor to continue from.
 *
 * Decision: the cursor names a file by inode, not by name: the writer rotates by renaming
 * `<n>.log` to `<n>.log.1`, so a name would point at other bytes after a rotation while the inode
 * still holds the bytes the cursor counted. A cursor whose file was rotated away entirely resumes
 * at the oldest file left (those lines are gone, as with the kubelet).
 *
 * Decision: `tailLines` counts the lines kubectl prints: a line the writer split into partial
 * (`P`) records counts once, where the kubelet's `FindTailLineStartIndex` counts every record and
 * may start in the middle of a long line.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogCursor } from './protocol.js';
import { logReaderLimits } from './limits.js';
import { parseCriRecord, type CriRecord } from '../runtime/cri-log-writer.js';

// The CRI line format is parsed once, beside its writer; the reader works on its byte records.
export { parseCriRecord, type CriRecord };


/**
 * A timestamp as nanoseconds since the epoch (bigint: a double cannot hold them), for `sinceTime`
 * comparisons at the precision the log has; null when it is not RFC 3339.
 */
export function timestampNanos(value: string): bigint | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(value);
  if (match === null) return null;
  const seconds = Date.parse(`${match[1] ?? ''}${match[3] ?? 'Z'}`);
  if (Number.isNaN(seconds)) return null;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** The attempts (container instances) that have log files, ascending. */
export async function logAttempts(containerDir: string): Promise<number[]> {
  const names = await readdir(containerDir).catch(() => [] as string[]);
  const attempts = new Set<number>();
  for (const name of names) {
    const match = /^(\d+)\.log(?:\.\d+)?$/.exec(name);
    if (match !== null) attempts.add(Number(match[1]));
  }
  return [...attempts].sort((a, b) => a - b);
}

export interface LogFile {
  readonly path: string;
  readonly inode: number;
  readonly size: number;
}

/** The instance's files, oldest first: `.n` … `.1`, then `<attempt>.log`. */
export async function instanceFiles(containerDir: string, attempt: number): Promise<LogFile[]> {
  const names = await readdir(containerDir).catch(() => [] as string[]);
  const rotated: { index: number; name: string }[] = [];
  let current: string | null = null;
  for (const name of names) {
    if (name === `${attempt}.log`) current = name;
    const match = /^(\d+)\.log\.(\d+)$/.exec(name);
    if (match !== null && Number(match[1]) === attempt) rotated.push({ index: Number(match[2]), name });
  }
  rotated.sort((a, b) => b.index - a.index);
  const ordered = [...rotated.map((r) => r.name), ...(current === null ? [] : [current])];
  const files: LogFile[] = [];
  for (const name of ordered) {
    const path = join(containerDir, name);
    // Rotated away between readdir and stat: skip it, the next read sees the new layout.
    const info = await stat(path).catch(() => null);
    if (info !== null) files.push({ path, inode: info.ino, size: info.size });
  }
  return files;
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Bytes of a record's start that hold its timestamp, stream and tag. */
const recordHeaderBytes = 64;

/** Whether the record starting at `at` in `block` (continuing in `later`) is a full (`F`) one, ending a line. */
function endsLine(block: Buffer, at: number, later: Buffer): boolean {
  let header = block.subarray(at, at + recordHeaderBytes);
  if (header.length < recordHeaderBytes) header = Buffer.concat([header, later.subarray(0, recordHeaderBytes - header.length)]);
  const newline = header.indexOf(0x0a);
  return parseCriRecord(newline < 0 ? header : header.subarray(0, newline))?.partial === false;
}

/**
 * Where the last `tailLines` lines of the instance start, scanning the files backwards in blocks
 * (newest first); the oldest file's start when there are fewer. A line is what `kubectl logs`
 * prints as one: partial records count with the full record that ends them, and a record without
 * its newline (being written) does not count yet.
 */
export async function tailCursor(files: readonly LogFile[], attempt: number, tailLines: number): Promise<LogCursor> {
  let lines = 0;
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i] as LogFile;
    // The newline ending the record being scanned (its start not found yet), and the block after this one.
    let recordEnd: number | null = null;
    let later: Buffer = Buffer.alloc(0);
    let end = file.size;
    const found = (recordStart: number, block: Buffer, blockStart: number): LogCursor | null => {
      if (recordEnd === null || !endsLine(block, recordStart - blockStart, later)) return null;
      // The (tailLines + 1)-th full record from the end: the wanted lines start right after it.
      lines++;
      return lines === tailLines + 1 ? { attempt, inode: file.inode, offset: recordEnd + 1, midLine: false } : null;
    };
    while (end > 0) {
      const start = Math.max(0, end - logReaderLimits.readBlockBytes);
      const block = await readAt(file.path, start, end - start);
      for (let j = block.length - 1; j >= 0; j--) {
        if (block[j] !== 0x0a) continue;
        const cursor = found(start + j + 1, block, start);
        if (cursor !== null) return cursor;
        recordEnd = start + j;
      }
      if (start === 0) {
        const cursor = found(0, block, 0);
        if (cursor !== null) return cursor;
      }
      later = block;
      end = start;
    }
  }
  const oldest = files[0];
  return { attempt, inode: oldest?.inode ?? 0, offset: 0, midLine: false };
}

export interface ReadOptions {
  readonly sinceNanos: bigint | null;
  readonly timestamps: boolean;
  /** Output bytes to stop after (a soft bound: the record that crosses it is kept whole). */
  readonly maxBytes: number;
}

export interface ReadResult {
  readonly chunk: Buffer;
  readonly cursor: LogCursor;
  /** Everything written so far has been read. */
  readonly caughtUp: boolean;
}

/** Reads from `cursor` through the instance's files: at most `maxBytes` of output, `scanBytesMax` of file. */
export async function readLogChunk(files: readonly LogFile[], cursor: LogCursor, options: ReadOptions): Promise<ReadResult> {
  let index = files.findIndex((f) => f.inode === cursor.inode);
  let offset = cursor.offset;
  let midLine = cursor.midLine;
  // Rotated away and removed: resume at the oldest file left.
  if (index < 0) {
    index = 0;
    offset = 0;
    midLine = false;
  }
  const out: Buffer[] = [];
  let outBytes = 0;
  let scanned = 0;
  while (index < files.length) {
    const file = files[index] as LogFile;
    // A file that shrank (truncated) is read again from its start.
    if (offset > file.size) offset = 0;
    const block = offset < file.size ? await readAt(file.path, offset, Math.min(logReaderLimits.readBlockBytes, file.size - offset)) : Buffer.alloc(0);
    let consumed = 0;
    for (;;) {
      const newline = block.indexOf(0x0a, consumed);
      if (newline < 0) break;
      const record = parseCriRecord(block.subarray(consumed, newline));
      consumed = newline + 1;
      if (record === null) continue;
      const stamp = options.sinceNanos === null ? null : timestampNanos(record.timestamp);
      if (stamp !== null && options.sinceNanos !== null && stamp < options.sinceNanos) continue;
      const formatted = formatRecord(record, options.timestamps && !midLine);
      out.push(formatted);
      outBytes += formatted.length;
      midLine = record.partial;
      if (outBytes >= options.maxBytes) break;
    }
    offset += consumed;
    scanned += consumed;
    const cursorHere: LogCursor = { attempt: cursor.attempt, inode: file.inode, offset, midLine };
    if (outBytes >= options.maxBytes || scanned >= logReaderLimits.scanBytesMax) return { chunk: Buffer.concat(out), cursor: cursorHere, caughtUp: false };
    // A record longer than a block (the writer bounds them, but be safe): take the block as one record's end.
    if (consumed === 0 && block.length === logReaderLimits.readBlockBytes) {
      offset += block.length;
      continue;
    }
    if (offset < file.size && consumed > 0) continue;
    // At the newest file's end, or only its unterminated record (being written) left: caught up.
    if (index === files.length - 1) return { chunk: Buffer.concat(out), cursor: cursorHere, caughtUp: true };
    // A rotated file is complete: go on with the next newer one.
    index++;
    offset = 0;
  }
  const last = files[files.length - 1];
  return { chunk: Buffer.concat(out), cursor: { attempt: cursor.attempt, inode: last?.inode ?? cursor.inode, offset, midLine }, caughtUp: true };
}

function formatRecord(record: CriRecord, withTimestamp: boolean): Buffer {
  const parts: Buffer[] = [];
  if (withTimestamp) parts.push(Buffer.from(`${record.timestamp} `, 'latin1'));
  parts.push(record.content);
  if (!record.partial) parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}
